/* guestvm: the confidential guest (TVM) that tellus builds and runs.
 * Entered in VS-mode at GUEST_BASE with a0 = vCPU id, a1 = entry_arg,
 * satp = 0.  Prints through SBI legacy console_putchar (forwarded by the
 * TSM to tellus, which prefixes each line with "guestvm: "), calls every
 * COVG function 0..10 with good and bad arguments, then shuts down with
 * SRST.  The GPA map and the tellus <-> guest contract are in cove.h. */
#include "rt.h"

/* Attestation buffers: page-aligned, in confidential (demand-zero) memory. */
static uint8_t pg_caps[4096] __attribute__((aligned(4096)));
static uint8_t pg_msmt_in[4096] __attribute__((aligned(4096)));
static uint8_t pg_msmt_out[4096] __attribute__((aligned(4096)));
static uint8_t pg_key[4096] __attribute__((aligned(4096)));
static uint8_t pg_challenge[4096] __attribute__((aligned(4096)));
static uint8_t pg_cert[8192] __attribute__((aligned(4096)));
static uint8_t pg_secret[4096] __attribute__((aligned(4096)));

#define A(p) ((uint64_t)(p))
#define SHARED ((volatile uint64_t *)GUEST_SHARED)

/* CoVE digest 6.4 check values */
static const char EXTEND_DIGEST[] =
    "97982a5b1414b9078103a1c008c4e3526c27b41cdbcf80790560a40f2a9bf2ed4427ab1428789915ed4b3dc07c454bd9";
static const char EXTEND_RESULT[] =
    "96c4ef47b5b70840706372472f80b355673b289d02e219e2b55f2d3727596c9790adda77fa1b53bae481daa1113cc4b7";
static const char CONFIG_RESULT[] =
    "58bf92eb6125fa2273ecc988869d885e12ffd98d34fa1d6208071c189ef5f7660d19997ab85c523af853413b1c763f39";

void con_putc(char c)
{
    sbi(EID_LEGACY_PUTCHAR, 0, (unsigned char)c);
}

static void unhex(uint8_t *out, const char *s, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        uint8_t b = 0;
        for (int k = 0; k < 2; k++) {
            char c = *s++;
            b = (uint8_t)(b << 4 | (c <= '9' ? c - '0' : c - 'a' + 10));
        }
        out[i] = b;
    }
}

static void check_hex(const char *name, const uint8_t *got, const char *want_hex)
{
    uint8_t want[SHA384_LEN];
    unhex(want, want_hex, SHA384_LEN);
    check_true(name, memcmp(got, want, SHA384_LEN) == 0, *(const uint64_t *)got);
}

static void ping(const char *name, uint64_t val)
{
    SHARED[0] = val;
    SHARED[1] = 0;
    struct sbiret r = sbi(EID_TEST, 0, val, GUEST_SHARED);
    check_err(cat(name, "error"), r.error, 0);
    check(cat(name, "value"), r.value, TEST_PONG);
    check(cat(name, "reply"), SHARED[1], ~val);
}

static void test_share(void)
{
    static const char msg[] = "hello from guestvm through DBCN\n";
    const uint64_t S = GUEST_SHARED;

    SHARED[0] = 0x1111; /* populate the page while still confidential */
    check_err("share_misaligned", covg(COVG_SHARE_MEMORY, S + 8, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("share_outside_regions", covg(COVG_SHARE_MEMORY, GUEST_OUTSIDE, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("share_len_zero", covg(COVG_SHARE_MEMORY, S, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("share_len_misaligned", covg(COVG_SHARE_MEMORY, S, 100).error, SBI_ERR_INVALID_PARAM);
    check_err("unshare_not_shared", covg(COVG_UNSHARE_MEMORY, S, 4096).error, SBI_ERR_INVALID_PARAM);
    check_err("share_memory_region", covg(COVG_SHARE_MEMORY, S, 4096).error, 0);
    check_err("share_already_shared", covg(COVG_SHARE_MEMORY, S, 4096).error, SBI_ERR_INVALID_PARAM);
    check_true("share_old_content_gone", SHARED[0] != 0x1111, SHARED[0]);
    ping("ping1", 0x70696e6701UL);

    /* DBCN write from the shared page is printed by tellus; from
     * confidential memory tellus cannot read it (INVALID_PARAM). */
    memcpy((void *)(S + 64), msg, sizeof msg - 1);
    struct sbiret r = sbi(EID_DBCN, DBCN_WRITE, sizeof msg - 1, S + 64, 0);
    check_err("dbcn_write_shared", r.error, 0);
    check("dbcn_write_shared_len", r.value, sizeof msg - 1);
    check_err("dbcn_write_confidential", sbi(EID_DBCN, DBCN_WRITE, sizeof msg - 1, A(msg), 0).error,
          SBI_ERR_INVALID_PARAM);

    check_err("unshare_misaligned", covg(COVG_UNSHARE_MEMORY, S + 8, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("unshare_outside_regions", covg(COVG_UNSHARE_MEMORY, GUEST_OUTSIDE, 4096).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("unshare_memory_region", covg(COVG_UNSHARE_MEMORY, S, 4096).error, 0);
    check("unshared_page_zero", all_zero((void *)S, 4096), 1);
    SHARED[0] = 0x2222;
    check("unshared_page_writable", SHARED[0], 0x2222);
    check_err("reshare_memory_region", covg(COVG_SHARE_MEMORY, S, 4096).error, 0);
    ping("ping2", 0x70696e6702UL);
}

/* MMIO accesses with exact, uncompressed instructions. */
#define LD(insn, addr) ({ uint64_t v_; __asm__ volatile(".option push\n.option norvc\n" insn " %0, 0(%1)\n.option pop" \
                                                        : "=r"(v_) : "r"(addr) : "memory"); v_; })
#define ST(insn, addr, v) __asm__ volatile(".option push\n.option norvc\n" insn " %0, 0(%1)\n.option pop" \
                                           :: "r"((uint64_t)(v)), "r"(addr) : "memory")

static uint64_t pat(uint64_t off, int w) /* little-endian device bytes, zero-extended */
{
    uint64_t v = 0;
    for (int i = w - 1; i >= 0; i--)
        v = v << 8 | MMIO_BYTE(off + i);
    return v;
}

static void test_mmio(void)
{
    const uint64_t M = GUEST_MMIO, ST_OFF = M + MMIO_STORE_OFF, V = MMIO_STORE_VAL;

    check_err("mmio_add_misaligned", covg(COVG_ADD_MMIO_REGION, M + 8, GUEST_MMIO_LEN).error, SBI_ERR_INVALID_ADDRESS);
    check_err("mmio_add_len_misaligned", covg(COVG_ADD_MMIO_REGION, M, 100).error, SBI_ERR_INVALID_ADDRESS);
    check_err("mmio_add_overlaps_memory", covg(COVG_ADD_MMIO_REGION, GUEST_REGION, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("mmio_add_region", covg(COVG_ADD_MMIO_REGION, M, GUEST_MMIO_LEN).error, 0);
    check_err("mmio_add_twice", covg(COVG_ADD_MMIO_REGION, M, GUEST_MMIO_LEN).error, SBI_ERR_INVALID_ADDRESS);

    /* loads: tellus answers with MMIO_BYTE(offset); the TSM extends */
    check("mmio_lb", LD("lb", M + 1), (uint64_t)(int64_t)(int8_t)pat(1, 1));
    check("mmio_lbu", LD("lbu", M + 1), pat(1, 1));
    check("mmio_lh", LD("lh", M + 2), (uint64_t)(int64_t)(int16_t)pat(2, 2));
    check("mmio_lhu", LD("lhu", M + 2), pat(2, 2));
    check("mmio_lw", LD("lw", M + 4), (uint64_t)(int64_t)(int32_t)pat(4, 4));
    check("mmio_lwu", LD("lwu", M + 4), pat(4, 4));
    check("mmio_ld", LD("ld", M + 8), pat(8, 8));
    check("mmio_ld_offset", LD("ld", M + 0x7f8), pat(0x7f8, 8));

    /* stores: tellus checks offset and value, then keeps them */
    ST("sb", ST_OFF + 0, V);
    ST("sh", ST_OFF + 8, V);
    ST("sw", ST_OFF + 16, V);
    ST("sd", ST_OFF + 24, V);
    check("mmio_sb_readback", LD("lbu", ST_OFF + 0), (uint8_t)V);
    check("mmio_sh_readback", LD("lhu", ST_OFF + 8), (uint16_t)V);
    check("mmio_sw_readback", LD("lwu", ST_OFF + 16), (uint32_t)V);
    check("mmio_sd_readback", LD("ld", ST_OFF + 24), V);

    check_err("mmio_remove_misaligned", covg(COVG_REMOVE_MMIO_REGION, M + 8, GUEST_MMIO_LEN).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("mmio_remove_region", covg(COVG_REMOVE_MMIO_REGION, M, GUEST_MMIO_LEN).error, 0);
}

static void test_measurement(void)
{
    const uint64_t in = A(pg_msmt_in), out = A(pg_msmt_out);
    struct sbiret r;

    unhex(pg_msmt_in, EXTEND_DIGEST, SHA384_LEN);
    check_err("extend_measurement", covg(COVG_EXTEND_MEASUREMENT, in, SHA384_LEN, MSMT_FIRST_RUNTIME).error, 0);
    r = covg(COVG_READ_MEASUREMENT, out, 4096, MSMT_FIRST_RUNTIME);
    check_err("read_measurement_runtime", r.error, 0);
    check("read_measurement_len", r.value, SHA384_LEN);
    check_hex("runtime_measurement_value", pg_msmt_out, EXTEND_RESULT);

    r = covg(COVG_READ_MEASUREMENT, out, 4096, MSMT_TVM_CONFIG);
    check_err("read_measurement_tvm_config", r.error, 0);
    check_hex("tvm_config_measurement_value", pg_msmt_out, CONFIG_RESULT);
    r = covg(COVG_READ_MEASUREMENT, out, 4096, MSMT_TVM_PAGES);
    check_err("read_measurement_tvm_pages", r.error, 0);
    check("tvm_pages_measurement_nonzero", all_zero(pg_msmt_out, SHA384_LEN), 0);
    int ok = 1;
    for (int i = MSMT_FIRST_RUNTIME + 1; i < MSMT_NUM_REGS; i++) {
        memset(pg_msmt_out, 0xff, SHA384_LEN);
        r = covg(COVG_READ_MEASUREMENT, out, 4096, i);
        ok &= r.error == 0 && all_zero(pg_msmt_out, SHA384_LEN);
    }
    check_true("unused_runtime_registers_zero", ok, r.error);

    check_err("extend_initial_register", covg(COVG_EXTEND_MEASUREMENT, in, SHA384_LEN, MSMT_TVM_CONFIG).error,
          SBI_ERR_INVALID_PARAM);
    check_err("extend_bad_index", covg(COVG_EXTEND_MEASUREMENT, in, SHA384_LEN, MSMT_NUM_REGS).error,
          SBI_ERR_INVALID_PARAM);
    check_err("extend_bad_len", covg(COVG_EXTEND_MEASUREMENT, in, 32, MSMT_FIRST_RUNTIME).error,
          SBI_ERR_INVALID_PARAM);
    check_err("extend_misaligned", covg(COVG_EXTEND_MEASUREMENT, in + 8, SHA384_LEN, MSMT_FIRST_RUNTIME).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("extend_outside", covg(COVG_EXTEND_MEASUREMENT, GUEST_OUTSIDE, SHA384_LEN, MSMT_FIRST_RUNTIME).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("extend_shared_buffer", covg(COVG_EXTEND_MEASUREMENT, GUEST_SHARED, SHA384_LEN, MSMT_FIRST_RUNTIME).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("read_bad_index", covg(COVG_READ_MEASUREMENT, out, 4096, MSMT_NUM_REGS).error, SBI_ERR_INVALID_PARAM);
    check_err("read_small_buffer", covg(COVG_READ_MEASUREMENT, out, 32, MSMT_FIRST_RUNTIME).error,
          SBI_ERR_INVALID_PARAM);
    check_err("read_misaligned", covg(COVG_READ_MEASUREMENT, out + 8, 4096, MSMT_FIRST_RUNTIME).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("read_outside", covg(COVG_READ_MEASUREMENT, GUEST_OUTSIDE, 4096, MSMT_FIRST_RUNTIME).error,
          SBI_ERR_INVALID_ADDRESS);
    /* failed extends changed nothing */
    r = covg(COVG_READ_MEASUREMENT, out, 4096, MSMT_FIRST_RUNTIME);
    check_hex("runtime_measurement_unchanged", pg_msmt_out, EXTEND_RESULT);
}

static void test_attcaps(void)
{
    const struct attestation_caps *c = (const void *)pg_caps;
    const uint64_t buf = A(pg_caps);

    check_err("get_attcaps", covg(COVG_GET_ATTCAPS, buf, 4096).error, 0);
    check("attcaps_hash_sha384", c->hash_algorithm, HASH_SHA384);
    check("attcaps_cert_formats", c->certificate_formats, CERT_FORMAT_X509);
    check("attcaps_initial_count", c->initial_measurements, 4);
    check("attcaps_runtime_count", c->runtime_measurements, 4);
    int bad = -1;
    for (int i = 0; i < MSMT_NUM_REGS && bad < 0; i++)
        if (c->msmt_regs[i].hash_algorithm != HASH_SHA384 ||
            c->msmt_regs[i].measurement_type != (i < MSMT_FIRST_RUNTIME ? MSMT_INITIAL : MSMT_RUNTIME))
            bad = i;
    check("attcaps_register_types", bad, -1);

    check_err("attcaps_misaligned", covg(COVG_GET_ATTCAPS, buf + 8, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("attcaps_size_unaligned", covg(COVG_GET_ATTCAPS, buf, sizeof *c).error, SBI_ERR_INVALID_PARAM);
    check_err("attcaps_outside", covg(COVG_GET_ATTCAPS, GUEST_OUTSIDE, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("attcaps_shared_buffer", covg(COVG_GET_ATTCAPS, GUEST_SHARED, 4096).error, SBI_ERR_INVALID_ADDRESS);
}

static void test_evidence(void)
{
    const uint64_t key = A(pg_key), ch = A(pg_challenge), cert = A(pg_cert);
    const unsigned long KEYLEN = 32, CERTSZ = sizeof pg_cert;

    for (unsigned i = 0; i < KEYLEN; i++)
        pg_key[i] = (uint8_t)(0x40 + i);
    for (unsigned i = 0; i < 64; i++)
        pg_challenge[i] = (uint8_t)(0xC0 ^ (i * 7));
    struct sbiret r = covg(COVG_GET_EVIDENCE, key, KEYLEN, ch, CERT_FORMAT_X509, cert, CERTSZ);
    check_err("get_evidence", r.error, 0);
    unsigned long len = (unsigned long)r.value;
    check_true("evidence_len_in_buffer", r.error == 0 && len > 4 && len <= CERTSZ, len);
    if (len > CERTSZ)
        len = CERTSZ;
    check("evidence_der_sequence", (uint64_t)pg_cert[0] << 8 | pg_cert[1], 0x3082);
    check("evidence_der_length", ((uint64_t)pg_cert[2] << 8 | pg_cert[3]) + 4, r.value);
    int found = 0;
    for (unsigned long i = 0; i + 64 <= len && !found; i++)
        found = memcmp(pg_cert + i, pg_challenge, 64) == 0;
    check("evidence_contains_challenge", found, 1);

    check_err("evidence_cbor_format", covg(COVG_GET_EVIDENCE, key, KEYLEN, ch, CERT_FORMAT_CBOR, cert, CERTSZ).error,
          SBI_ERR_INVALID_PARAM);
    check_err("evidence_no_format", covg(COVG_GET_EVIDENCE, key, KEYLEN, ch, 0, cert, CERTSZ).error,
          SBI_ERR_INVALID_PARAM);
    check_err("evidence_challenge_misaligned",
          covg(COVG_GET_EVIDENCE, key, KEYLEN, ch + 8, CERT_FORMAT_X509, cert, CERTSZ).error, SBI_ERR_INVALID_ADDRESS);
    check_err("evidence_cert_outside",
          covg(COVG_GET_EVIDENCE, key, KEYLEN, ch, CERT_FORMAT_X509, GUEST_OUTSIDE, CERTSZ).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("evidence_key_shared",
          covg(COVG_GET_EVIDENCE, GUEST_SHARED, KEYLEN, ch, CERT_FORMAT_X509, cert, CERTSZ).error,
          SBI_ERR_INVALID_ADDRESS);
    check_error("evidence_cert_too_small",
                covg(COVG_GET_EVIDENCE, key, KEYLEN, ch, CERT_FORMAT_X509, cert, 16).error);
}

static void test_secret_irq(void)
{
    const uint64_t buf = A(pg_secret);
    check_err("retrieve_secret_auth", covg(COVG_RETRIEVE_SECRET, buf, 4096).error, SBI_ERR_AUTH);
    check_err("retrieve_secret_misaligned", covg(COVG_RETRIEVE_SECRET, buf + 8, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("retrieve_secret_too_big", covg(COVG_RETRIEVE_SECRET, buf, 8192).error, SBI_ERR_INVALID_PARAM);
    check_err("retrieve_secret_outside", covg(COVG_RETRIEVE_SECRET, GUEST_OUTSIDE, 4096).error, SBI_ERR_INVALID_ADDRESS);
    check_err("allow_external_interrupt", covg(COVG_ALLOW_EXT_IRQ, ~0UL).error, SBI_ERR_NOT_SUPPORTED);
    check_err("deny_external_interrupt", covg(COVG_DENY_EXT_IRQ, ~0UL).error, SBI_ERR_NOT_SUPPORTED);
}

static void test_zero_pages(void)
{
    const uint64_t Z = GUEST_ZERO, last = Z + (GUEST_ZERO_PAGES - 1) * PAGE_SIZE;
    int ok = 1;

    /* first touch by a store, the others by loads */
    wr64(last + 8, 0x5a5a);
    check("zero_page_store_first", rd64(last + 8), 0x5a5a);
    for (uint64_t p = Z; p < last; p += PAGE_SIZE)
        ok &= all_zero((void *)p, PAGE_SIZE);
    check("zero_pages_read_zero", ok, 1);
    for (uint64_t a = Z; a < Z + GUEST_ZERO_PAGES * PAGE_SIZE; a += 8)
        wr64(a, a * 0x9E3779B97F4A7C15UL);
    ok = 1;
    for (uint64_t a = Z; a < Z + GUEST_ZERO_PAGES * PAGE_SIZE; a += 8)
        ok &= rd64(a) == a * 0x9E3779B97F4A7C15UL;
    check("zero_pages_write_readback", ok, 1);
}

int main(unsigned long vcpu, unsigned long arg)
{
    check("entry_a0_vcpu_id", vcpu, 0);
    check("entry_a1_entry_arg", arg, 0);
    check("entry_satp_bare", csrr(satp), 0);
    check_true("probe_covg", sbi_probe(EID_COVG) != 0, 0);
    check_err("covg_unknown_fid", covg(11).error, SBI_ERR_NOT_SUPPORTED);
    check_err("unknown_eid_forwarded", sbi(0x12345678UL, 0).error, SBI_ERR_NOT_SUPPORTED);

    test_share();
    test_mmio();
    test_measurement();
    test_attcaps();
    test_evidence();
    test_secret_irq();
    test_zero_pages();
    check("no_unexpected_traps", trap_rec.count, expected_traps);

    unsigned long n = n_checks, f = n_failed;
    print_dec(n);
    print(" checks, ");
    print_dec(f);
    print(" failed\n");
    sbi(EID_SRST, 0, SRST_SHUTDOWN, f ? SRST_REASON_FAILURE : SRST_REASON_NONE);
    print("FAIL srst_returned\n");
    for (;;)
        __asm__ volatile("wfi");
}
