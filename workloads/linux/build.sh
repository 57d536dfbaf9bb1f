#!/usr/bin/env bash
# Build the Salus Linux guest images from Debian sources.
#
#   workloads/linux/build.sh [--install-deps] [--force] [--keep-work] [OUTDIR]
#   workloads/linux/build.sh --print-hash
#   workloads/linux/build.sh --check-deps
#
# Outputs (in OUTDIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/salus/images/<hash>/):
#   Image               Linux 6.1 (linux-source-6.1), tinyconfig + kernel.config
#   initramfs.cpio.gz   static busybox + init (boot with rdinit=/init)
#   rootfs.ext2         the same userland on ext2 (boot with root=/dev/vda rw)
#   manifest.json       recipe hash, versions, sizes, sha256 of the outputs
#
# <hash> is the first 16 hex digits of a sha256 over the recipe files (see
# recipe_hash below; src/images.ts computes the same value). When the manifest
# exists and every output matches it, nothing is rebuilt.
#
# Unpacked sources are shared between builds in <cache>/salus/images/src/;
# the per-build work tree is OUTDIR/work and is removed after a successful
# build unless --keep-work is given. Nothing is written into the repository.
set -euo pipefail

RECIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Recipe files, in hashing order. Optional files are hashed only if present.
RECIPE_FILES=(build.sh kernel.config init busybox.config)

# Debian packages the build needs, and what each is checked by.
#   "package|kind|what"  kind: cmd (a command), file (a path)
DEPS=(
	"gcc-riscv64-linux-gnu|cmd|riscv64-linux-gnu-gcc"
	"linux-source-6.1|file|/usr/src/linux-source-6.1.tar.xz"
	"gcc|cmd|gcc"
	"libc6-dev|file|/usr/include/stdio.h"
	"make|cmd|make"
	"bc|cmd|bc"
	"flex|cmd|flex"
	"bison|cmd|bison"
	"libssl-dev|file|/usr/include/openssl/opensslv.h"
	"xz-utils|cmd|xz"
	"gzip|cmd|gzip"
	"e2fsprogs|cmd|mke2fs"
	"dpkg-dev|cmd|dpkg-source"
	"apt|cmd|apt-get"
	"util-linux|cmd|flock"
)

# Fixed values so that rebuilding the same recipe gives the same bytes where
# the tools allow it (the kernel banner, cpio and ext2 timestamps, UUIDs).
export SOURCE_DATE_EPOCH=1704067200 # 2024-01-01T00:00:00Z
export KBUILD_BUILD_TIMESTAMP="Mon Jan  1 00:00:00 UTC 2024"
export KBUILD_BUILD_USER=salus
export KBUILD_BUILD_HOST=salus
export KBUILD_BUILD_VERSION=1
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
export LC_ALL=C
export TZ=UTC
ROOTFS_UUID=5a1c5e00-0000-4000-8000-000000000001
ROOTFS_SIZE=16M
CROSS=riscv64-linux-gnu-

die() {
	echo "build.sh: error: $*" >&2
	exit 1
}

usage() {
	sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

recipe_hash() {
	# For each recipe file present: "<name>\n<byte count>\n<bytes>".
	local f
	for f in "${RECIPE_FILES[@]}"; do
		[ -f "$RECIPE_DIR/$f" ] || continue
		printf '%s\n%s\n' "$f" "$(wc -c <"$RECIPE_DIR/$f" | tr -d ' ')"
		cat "$RECIPE_DIR/$f"
	done | sha256sum | cut -c1-16
}

INSTALL_DEPS=0
FORCE=0
KEEP_WORK=0
CHECK_ONLY=0
OUTDIR=""
while [ $# -gt 0 ]; do
	case "$1" in
	--install-deps) INSTALL_DEPS=1 ;;
	--force) FORCE=1 ;;
	--keep-work) KEEP_WORK=1 ;;
	--check-deps) CHECK_ONLY=1 ;;
	--print-hash)
		recipe_hash
		exit 0
		;;
	-h | --help)
		usage
		exit 0
		;;
	-*) die "unknown option: $1 (see --help)" ;;
	*)
		[ -z "$OUTDIR" ] || die "more than one OUTDIR given"
		OUTDIR=$1
		;;
	esac
	shift
done

HASH=$(recipe_hash)
CACHE_BASE="${XDG_CACHE_HOME:-$HOME/.cache}/salus/images"
OUTDIR=${OUTDIR:-$CACHE_BASE/$HASH}
SRC_CACHE=$CACHE_BASE/src
JOBS=$(nproc 2>/dev/null || echo 1)

T0=$SECONDS
STAGE_T0=$SECONDS
NSTAGES=5
stage() { # stage N "text"
	STAGE_T0=$SECONDS
	echo "[$1/$NSTAGES] $2 ... (at $((SECONDS - T0)) s)"
}
stage_done() { # stage_done N
	echo "[$1/$NSTAGES] done in $((SECONDS - STAGE_T0)) s"
}
# run LOG cmd...: run quietly into LOG; on failure show its tail and stop.
run() {
	local log=$1
	shift
	if ! "$@" >>"$log" 2>&1; then
		echo "---- last lines of $log ----" >&2
		tail -n 40 "$log" >&2
		die "command failed: $* (full log: $log)"
	fi
}

# --------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------
missing_packages() {
	local d pkg kind what
	for d in "${DEPS[@]}"; do
		IFS='|' read -r pkg kind what <<<"$d"
		case "$kind" in
		cmd) command -v "$what" >/dev/null 2>&1 || echo "$pkg" ;;
		file) [ -e "$what" ] || echo "$pkg" ;;
		esac
	done
}

busybox_source_available() {
	apt-get source --print-uris busybox 2>/dev/null | grep -q "busybox_.*\.dsc"
}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "--install-deps needs root (or sudo) to run: $*"
	fi
}

enable_deb_src() {
	local f changed=0
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		if grep -q '^Types:' "$f" && ! grep -q '^Types:.*deb-src' "$f"; then
			echo "      enabling deb-src in $f"
			as_root sed -i 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' "$f"
			changed=1
		fi
	done
	if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list &&
		! grep -q '^deb-src ' /etc/apt/sources.list; then
		echo "      adding deb-src lines to /etc/apt/sources.list"
		as_root sh -c "grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >>/etc/apt/sources.list"
		changed=1
	fi
	[ "$changed" = 1 ] || echo "      deb-src already enabled"
}

install_deps() {
	local pkgs
	pkgs=$(missing_packages | sort -u | tr '\n' ' ')
	echo "[deps] enabling Debian source packages (deb-src) for busybox"
	enable_deb_src
	echo "[deps] apt-get update"
	as_root apt-get update -q
	if [ -n "$pkgs" ]; then
		echo "[deps] apt-get install -y $pkgs"
		# shellcheck disable=SC2086
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs
	fi
}

check_deps() {
	local pkgs ok=1
	pkgs=$(missing_packages | sort -u | tr '\n' ' ')
	if [ -n "$pkgs" ]; then
		echo "build.sh: missing Debian packages: $pkgs" >&2
		echo "  install them with:  apt-get update && apt-get install -y $pkgs" >&2
		echo "  (or run: $0 --install-deps)" >&2
		ok=0
	fi
	if ! busybox_source_available; then
		cat >&2 <<EOF
build.sh: apt cannot find the busybox source package (apt-get source busybox).
  Enable deb-src: in /etc/apt/sources.list.d/debian.sources change
  'Types: deb' to 'Types: deb deb-src', then run apt-get update.
  (or run: $0 --install-deps)
EOF
		ok=0
	fi
	[ "$ok" = 1 ] || exit 2
}

# --------------------------------------------------------------------------
# Manifest helpers (manifest.json is written by this script, one file entry a
# line, so sed can read it back without a JSON parser).
# --------------------------------------------------------------------------
OUTPUTS=(Image initramfs.cpio.gz rootfs.ext2)

manifest_sha() { # manifest_sha MANIFEST NAME
	sed -n "s/^ *\"$2\": { \"size\": [0-9]*, \"sha256\": \"\([0-9a-f]\{64\}\)\" }.*/\1/p" "$1"
}

outputs_verify() { # outputs_verify DIR
	local dir=$1 f want got
	[ -f "$dir/manifest.json" ] || return 1
	grep -q "\"recipeHash\": \"$HASH\"" "$dir/manifest.json" || return 1
	for f in "${OUTPUTS[@]}"; do
		[ -f "$dir/$f" ] || return 1
		want=$(manifest_sha "$dir/manifest.json" "$f")
		[ -n "$want" ] || return 1
		got=$(sha256sum "$dir/$f" | cut -d ' ' -f 1)
		[ "$want" = "$got" ] || return 1
	done
}

json_str() { # minimal JSON string escaping for the values we write
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
if [ "$INSTALL_DEPS" = 1 ]; then
	install_deps
fi
if [ "$CHECK_ONLY" = 1 ]; then
	check_deps
	echo "build.sh: all build dependencies are present"
	exit 0
fi

# Verified images need no build (and no build dependencies).
if [ "$FORCE" = 0 ] && outputs_verify "$OUTDIR"; then
	echo "build.sh: images for recipe $HASH are up to date in $OUTDIR"
	exit 0
fi
check_deps

OUTDIR=$(realpath -m "$OUTDIR")
case "$OUTDIR/" in
"$(realpath -m "$RECIPE_DIR/../..")/"*) die "OUTDIR $OUTDIR is inside the repository; pick a directory outside it" ;;
esac
mkdir -p "$OUTDIR" "$SRC_CACHE"

# One build per output directory at a time.
exec 9>"$OUTDIR/.lock"
if ! flock -n 9; then
	echo "build.sh: another build is running in $OUTDIR; waiting for it"
	flock 9
	if [ "$FORCE" = 0 ] && outputs_verify "$OUTDIR"; then
		echo "build.sh: images for recipe $HASH are up to date in $OUTDIR"
		exit 0
	fi
fi

echo "build.sh: recipe $HASH -> $OUTDIR ($JOBS jobs)"
rm -f "$OUTDIR/manifest.json"
WORK=$OUTDIR/work
mkdir -p "$WORK"
LOGS=$WORK/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"

# Shared source trees are unpacked into a temporary directory and renamed into
# place, so an interrupted unpack never leaves a half tree behind.
LINUX_PKG_VERSION=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || echo unknown)
LINUX_SRC=$SRC_CACHE/linux-source-6.1_$LINUX_PKG_VERSION

# ---- 1. kernel source -----------------------------------------------------
stage 1 "unpacking linux-source-6.1 ($LINUX_PKG_VERSION)"
if [ -f "$LINUX_SRC/Makefile" ]; then
	echo "      using cached tree $LINUX_SRC"
else
	tmp=$(mktemp -d "$SRC_CACHE/.linux.XXXXXX")
	run "$LOGS/unpack-linux.log" tar -C "$tmp" -xf /usr/src/linux-source-6.1.tar.xz
	[ -f "$tmp/linux-source-6.1/Makefile" ] || die "unexpected layout in /usr/src/linux-source-6.1.tar.xz"
	rm -rf "$LINUX_SRC"
	mv "$tmp/linux-source-6.1" "$LINUX_SRC"
	rm -rf "$tmp"
fi
KVER=$(make -s -C "$LINUX_SRC" kernelversion)
stage_done 1

# ---- 2. kernel ------------------------------------------------------------
stage 2 "building Linux $KVER Image (tinyconfig + kernel.config, make -j$JOBS)"
KB=$WORK/linux-build
KMAKE=(make -C "$LINUX_SRC" O="$KB" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS")
mkdir -p "$KB"
run "$LOGS/kernel.log" "${KMAKE[@]}" tinyconfig
run "$LOGS/kernel.log" "$LINUX_SRC/scripts/kconfig/merge_config.sh" -m -O "$KB" "$KB/.config" "$RECIPE_DIR/kernel.config"
run "$LOGS/kernel.log" "${KMAKE[@]}" olddefconfig
# Every symbol the fragment sets must survive olddefconfig unchanged.
bad=""
while IFS= read -r line; do
	sym=$(printf '%s\n' "$line" | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p')
	[ -n "$sym" ] || continue
	if ! grep -qxF -- "$line" "$KB/.config"; then
		if [ "${line#\# }" != "$line" ] && ! grep -q "^$sym=" "$KB/.config"; then
			continue # "is not set" and absent: same meaning
		fi
		bad="$bad $sym"
	fi
done <"$RECIPE_DIR/kernel.config"
[ -z "$bad" ] || die "kernel.config symbols not applied (missing dependency or typo):$bad"
run "$LOGS/kernel.log" "${KMAKE[@]}" Image
cp "$KB/arch/riscv/boot/Image" "$OUTDIR/Image.tmp"
GEN_INIT_CPIO=$KB/usr/gen_init_cpio
[ -x "$GEN_INIT_CPIO" ] || run "$LOGS/kernel.log" "${KMAKE[@]}" usr/gen_init_cpio
[ -x "$GEN_INIT_CPIO" ] || die "usr/gen_init_cpio was not built"
echo "      Image $(wc -c <"$OUTDIR/Image.tmp") bytes"
T_KERNEL=$((SECONDS - STAGE_T0))
stage_done 2

# ---- 3. busybox source ----------------------------------------------------
stage 3 "fetching busybox source (apt-get source busybox)"
BB_DSC=$(apt-get source --print-uris busybox 2>/dev/null | sed -n "s/.* \(busybox_[^ ]*\.dsc\) .*/\1/p" | head -n 1)
[ -n "$BB_DSC" ] || die "apt-get source --print-uris busybox found no .dsc (deb-src enabled? apt-get update?)"
BB_PKG_VERSION=${BB_DSC#busybox_}
BB_PKG_VERSION=${BB_PKG_VERSION%.dsc}
BB_SRC=$SRC_CACHE/busybox_$BB_PKG_VERSION
if [ -f "$BB_SRC/Makefile" ]; then
	echo "      using cached tree $BB_SRC"
else
	tmp=$(mktemp -d "$SRC_CACHE/.busybox.XXXXXX")
	(cd "$tmp" && run "$LOGS/busybox-source.log" apt-get source busybox)
	d=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n 1)
	[ -n "$d" ] && [ -f "$d/Makefile" ] || die "apt-get source busybox gave no source tree (see $LOGS/busybox-source.log)"
	rm -rf "$BB_SRC"
	mv "$d" "$BB_SRC"
	rm -rf "$tmp"
fi
BB_VERSION=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' "$BB_SRC/Makefile" | paste -sd.)
stage_done 3

# ---- 4. busybox -----------------------------------------------------------
stage 4 "building busybox $BB_VERSION static (defconfig + busybox.config, make -j$JOBS)"
BB=$WORK/busybox-build
rm -rf "$BB"
mkdir -p "$BB"
BMAKE=(make -C "$BB_SRC" O="$BB" CROSS_COMPILE="$CROSS" -j"$JOBS")
run "$LOGS/busybox.log" "${BMAKE[@]}" defconfig
if [ -f "$RECIPE_DIR/busybox.config" ]; then
	# Replace each symbol the fragment names, then let oldconfig settle.
	while IFS= read -r line; do
		sym=$(printf '%s\n' "$line" | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p')
		[ -n "$sym" ] || continue
		sed -i -e "/^$sym=/d" -e "/^# $sym is not set$/d" "$BB/.config"
		printf '%s\n' "$line" >>"$BB/.config"
	done <"$RECIPE_DIR/busybox.config"
	run "$LOGS/busybox.log" sh -c "yes '' | make -C '$BB_SRC' O='$BB' CROSS_COMPILE='$CROSS' oldconfig"
fi
grep -qx 'CONFIG_STATIC=y' "$BB/.config" || die "busybox config is not static (CONFIG_STATIC)"
run "$LOGS/busybox.log" "${BMAKE[@]}"
echo "      busybox $(wc -c <"$BB/busybox") bytes"
T_BUSYBOX=$((SECONDS - STAGE_T0))
stage_done 4

# ---- 5. initramfs, ext2 root disk, manifest -------------------------------
stage 5 "assembling initramfs.cpio.gz and rootfs.ext2"
ROOT=$WORK/rootfs
rm -rf "$ROOT"
mkdir -p "$ROOT"
run "$LOGS/rootfs.log" "${BMAKE[@]}" CONFIG_PREFIX="$ROOT" install
rm -f "$ROOT/linuxrc"
mkdir -p "$ROOT"/{dev,proc,sys,tmp,root,etc,mnt}
chmod 1777 "$ROOT/tmp"
chmod 700 "$ROOT/root"
install -m 755 "$RECIPE_DIR/init" "$ROOT/init"
# Whatever runs as init (rdinit=/init, init=/init, init=/sbin/init or the
# kernel's default search) is the same script.
rm -f "$ROOT/sbin/init"
ln -s /init "$ROOT/sbin/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf 'salus\n' >"$ROOT/etc/hostname"
printf 'proc /proc proc defaults 0 0\nsysfs /sys sysfs defaults 0 0\n' >"$ROOT/etc/fstab"
find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# initramfs: the kernel's gen_init_cpio writes the archive from a list, so the
# /dev/console node (needed before devtmpfs is mounted) and root ownership
# need no root privileges.
LIST=$WORK/initramfs.list
(
	cd "$ROOT"
	find . -mindepth 1 | sort | while IFS= read -r p; do
		rel=${p#.}
		if [ -L "$p" ]; then
			echo "slink $rel $(readlink "$p") 777 0 0"
		elif [ -d "$p" ]; then
			echo "dir $rel $(stat -c %a "$p") 0 0"
		elif [ -f "$p" ]; then
			echo "file $rel $ROOT$rel $(stat -c %a "$p") 0 0"
		fi
	done
	echo "nod /dev/console 600 0 0 c 5 1"
	echo "nod /dev/null 666 0 0 c 1 3"
) >"$LIST"
"$GEN_INIT_CPIO" -t "$SOURCE_DATE_EPOCH" "$LIST" 2>>"$LOGS/rootfs.log" | gzip -9 -n >"$OUTDIR/initramfs.cpio.gz.tmp" ||
	die "gen_init_cpio failed (see $LOGS/rootfs.log)"

# ext2 root disk, filled from the directory by mke2fs -d (no root, no loop).
rm -f "$OUTDIR/rootfs.ext2.tmp"
run "$LOGS/rootfs.log" mke2fs -q -F -t ext2 -b 1024 -m 0 -L salus-root -U "$ROOTFS_UUID" \
	-E "root_owner=0:0,hash_seed=$ROOTFS_UUID" -d "$ROOT" "$OUTDIR/rootfs.ext2.tmp" "$ROOTFS_SIZE"

for f in "${OUTPUTS[@]}"; do
	mv -f "$OUTDIR/$f.tmp" "$OUTDIR/$f"
done
T_IMAGES=$((SECONDS - STAGE_T0))

entries=""
for f in "${OUTPUTS[@]}"; do
	entries="$entries    \"$f\": { \"size\": $(wc -c <"$OUTDIR/$f" | tr -d ' '), \"sha256\": \"$(sha256sum "$OUTDIR/$f" | cut -d ' ' -f 1)\" },
"
done
entries=${entries%,
}
cat >"$OUTDIR/manifest.json.tmp" <<EOF
{
  "recipeHash": "$HASH",
  "kernelVersion": "$KVER",
  "kernelPackage": $(json_str "linux-source-6.1 $LINUX_PKG_VERSION"),
  "busyboxVersion": "$BB_VERSION",
  "busyboxPackage": $(json_str "busybox $BB_PKG_VERSION"),
  "compiler": $(json_str "$(${CROSS}gcc --version | head -n 1)"),
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": { "kernel": $T_KERNEL, "busybox": $T_BUSYBOX, "images": $T_IMAGES, "total": $((SECONDS - T0)) },
  "cmdline": { "initramfs": "console=ttyS0 rdinit=/init", "disk": "console=ttyS0 root=/dev/vda rw" },
  "files": {
$entries
  }
}
EOF
mv -f "$OUTDIR/manifest.json.tmp" "$OUTDIR/manifest.json"
outputs_verify "$OUTDIR" || die "internal error: fresh outputs do not verify against manifest.json"
stage_done 5

if [ "$KEEP_WORK" = 0 ]; then
	rm -rf "$WORK"
fi
for f in "${OUTPUTS[@]}"; do
	printf '  %-18s %9d bytes\n' "$f" "$(wc -c <"$OUTDIR/$f")"
done
echo "build.sh: done in $((SECONDS - T0)) s: $OUTDIR"
