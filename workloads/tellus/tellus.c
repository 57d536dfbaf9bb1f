/* tellus: host-side CoVE test driver.  Loaded as the host "kernel" at
 * 0x80200000 and entered in VS-mode (it sees S-mode) with a0 = hart id,
 * a1 = device tree.  It calls every COVH function (plus NACL, Base, SUPD,
 * COVI) with good and bad arguments, builds a TVM from the embedded guestvm
 * image, services the guest's exits, tears the TVM down and checks that
 * every reclaimed page reads back as zero.  One line per check; guest
 * output lines are printed with a "guestvm: " prefix and their PASS/FAIL
 * lines are counted in the final summary.  Ends with SRST shutdown. */
#include "rt.h"

/* Host memory (GPA == HPA).  RAM is 128 MiB; the TSM keeps the top 8 MiB. */
#define HOST_FREE   0x81000000UL
#define HOST_LIMIT  0x87000000UL
#define SALUS_MEM   0x87800000UL
#define NOT_RAM     0x200000000UL
#define PT_PAGES    16
#define POOL_PAGES  48
#define MAX_EXITS   200000

extern const uint8_t guest_image_start[], guest_image_end[];

/* con_putc: cove/dbcn_console.c */

/* ---- host page plan ---- */
static uint64_t next_free = HOST_FREE;

static uint64_t alloc_pages(uint64_t n, uint64_t align)
{
    uint64_t a = (next_free + align * PAGE_SIZE - 1) & ~(align * PAGE_SIZE - 1);
    next_free = a + n * PAGE_SIZE;
    return a;
}

enum { R_TVM, R_VCPU, R_PT, R_IMAGE, R_POOL, R_LATE, R_NUM };
static struct range { const char *name; uint64_t base, pages; } conv[R_NUM] = {
    { "tvm_state" }, { "vcpu_state" }, { "pt_pages" }, { "image" }, { "zero_pool" }, { "late_pt_page" },
};

static uint64_t shm, hbuf, host_shared[2];
static uint64_t S, V, D, max_vcpus, tvm, pool_next;

#define SHM(off) (*(volatile uint64_t *)(shm + (off)))
#define GPR(i) SHM(NACL_GPR_OFF(i))
#define SHM_CSR(c) SHM(NACL_CSR_OFF(c))

static long convert(uint64_t base, uint64_t n) { return covh(COVH_CONVERT_PAGES, base, n).error; }
static long fence(void)
{
    long e = covh(COVH_GLOBAL_FENCE).error;
    return e ? e : covh(COVH_LOCAL_FENCE).error;
}

/* ---- guest bookkeeping ---- */
enum { MAP_ZERO, MAP_SHARED };
static struct mapping { uint64_t gpa, hpa; int kind, used; } maps[64];
static struct region { uint64_t gpa, len; int used; } mmio[4], shared[4];
static uint8_t dev[GUEST_MMIO_LEN];
static unsigned long covg_seen, unknown_ecalls, mmio_loads, mmio_stores, mmio_bad, pings;
static unsigned long zero_adds, shared_adds, share_requests;
static int srst_seen, guest_summary_seen;
static uint64_t srst_type, srst_reason, last_ping[2];
static unsigned long guest_checks, guest_failed, guest_claimed_checks, guest_claimed_failed;

static struct region *find_region(struct region *t, uint64_t gpa)
{
    for (int i = 0; i < 4; i++)
        if (t[i].used && gpa >= t[i].gpa && gpa - t[i].gpa < t[i].len)
            return &t[i];
    return 0;
}

static void add_region(struct region *t, uint64_t gpa, uint64_t len)
{
    for (int i = 0; i < 4; i++)
        if (!t[i].used) {
            t[i] = (struct region){ gpa, len, 1 };
            return;
        }
}

static void drop_regions(struct region *t, uint64_t gpa, uint64_t len)
{
    for (int i = 0; i < 4; i++)
        if (t[i].used && t[i].gpa < gpa + len && gpa < t[i].gpa + t[i].len)
            t[i].used = 0;
}

static void add_map(uint64_t gpa, uint64_t hpa, int kind)
{
    for (int i = 0; i < 64; i++)
        if (!maps[i].used) {
            maps[i] = (struct mapping){ gpa, hpa, kind, 1 };
            return;
        }
}

/* Host address of [gpa, gpa+len) if it lies in one shared page, else 0. */
static uint64_t shared_hpa(uint64_t gpa, uint64_t len)
{
    for (int i = 0; i < 64; i++) {
        struct mapping *m = &maps[i];
        if (m->used && m->kind == MAP_SHARED && gpa >= m->gpa && len && gpa + len <= m->gpa + PAGE_SIZE)
            return m->hpa + (gpa - m->gpa);
    }
    return 0;
}

/* ---- guest console: line buffer, prefix, PASS/FAIL counting ---- */
static char gline[200];
static unsigned long glen;

static uint64_t parse_dec(const char **s)
{
    uint64_t v = 0;
    while (**s >= '0' && **s <= '9')
        v = v * 10 + (uint64_t)(*(*s)++ - '0');
    return v;
}

static void guest_putc(char c)
{
    if (c != '\n' && glen < sizeof gline - 1) {
        gline[glen++] = c;
        return;
    }
    gline[glen] = 0;
    glen = 0;
    print("guestvm: ");
    print(gline);
    print("\n");
    if (!memcmp(gline, "PASS ", 5) || !memcmp(gline, "FAIL ", 5)) {
        guest_checks++;
        guest_failed += gline[0] == 'F';
    } else if (gline[0] >= '0' && gline[0] <= '9') {
        const char *p = gline;
        guest_claimed_checks = parse_dec(&p);
        if (!memcmp(p, " checks, ", 9)) {
            p += 9;
            guest_claimed_failed = parse_dec(&p);
            guest_summary_seen = 1;
        }
    }
}

/* ---- running the vCPU ---- */
struct exit_info { long error, value; uint64_t scause, stval; };

static struct exit_info run_vcpu(uint64_t id, uint64_t vcpu)
{
    register unsigned long a0 __asm__("a0") = id;
    register unsigned long a1 __asm__("a1") = vcpu;
    register unsigned long a6 __asm__("a6") = COVH_RUN_VCPU;
    register unsigned long a7 __asm__("a7") = EID_COVH;
    uint64_t sc, tv;
    /* scause/stval describe the exit: read them right after the ecall */
    __asm__ volatile("ecall\n\tcsrr %2, scause\n\tcsrr %3, stval"
                     : "+r"(a0), "+r"(a1), "=r"(sc), "=r"(tv)
                     : "r"(a6), "r"(a7)
                     : "memory");
    return (struct exit_info){ (long)a0, (long)a1, sc, tv };
}

/* Invalidate, fence and remove every populated page in [gpa, gpa+len).
 * The first time, also try the validate abort path and removal before
 * the fence. */
static void remove_populated(uint64_t gpa, uint64_t len, const char *why)
{
    static int tested;
    int n = 0;
    for (int i = 0; i < 64; i++) {
        struct mapping *m = &maps[i];
        if (!m->used || m->gpa < gpa || m->gpa >= gpa + len)
            continue;
        if (!tested) {
            check_err("tvm_invalidate_pages_abort", covh(COVH_INVALIDATE_PAGES, tvm, m->gpa, PAGE_SIZE).error, 0);
            check_err("tvm_validate_pages", covh(COVH_VALIDATE_PAGES, tvm, m->gpa, PAGE_SIZE).error, 0);
            check_error("tvm_validate_not_invalidated", covh(COVH_VALIDATE_PAGES, tvm, m->gpa, PAGE_SIZE).error);
        }
        check_err(cat("tvm_invalidate_pages", why), covh(COVH_INVALIDATE_PAGES, tvm, m->gpa, PAGE_SIZE).error, 0);
        if (!tested) {
            check_error("tvm_remove_before_fence", covh(COVH_REMOVE_PAGES, tvm, m->gpa, PAGE_SIZE).error);
            check_error("tvm_invalidate_twice", covh(COVH_INVALIDATE_PAGES, tvm, m->gpa, PAGE_SIZE).error);
        }
        n++;
    }
    if (!n)
        return;
    check_err(cat("tvm_fence", why), covh(COVH_TVM_FENCE, tvm).error, 0);
    for (int i = 0; i < 64; i++) {
        struct mapping *m = &maps[i];
        if (!m->used || m->gpa < gpa || m->gpa >= gpa + len)
            continue;
        check_err(cat("tvm_remove_pages", why), covh(COVH_REMOVE_PAGES, tvm, m->gpa, PAGE_SIZE).error, 0);
        m->used = 0;
    }
    tested = 1;
}

static void covg_exit(uint64_t fid, uint64_t a0, uint64_t a1)
{
    if (fid < 64)
        covg_seen |= 1UL << fid;
    switch (fid) {
    case COVG_ADD_MMIO_REGION:
        add_region(mmio, a0, a1);
        break;
    case COVG_REMOVE_MMIO_REGION:
        drop_regions(mmio, a0, a1);
        break;
    case COVG_SHARE_MEMORY:
    case COVG_UNSHARE_MEMORY:
        remove_populated(a0, a1, fid == COVG_UNSHARE_MEMORY ? "unshare" : share_requests ? "reshare" : "share");
        if (fid == COVG_SHARE_MEMORY) {
            add_region(shared, a0, a1);
            memset((void *)host_shared[share_requests & 1], 0, PAGE_SIZE);
            share_requests++;
        } else {
            drop_regions(shared, a0, a1);
        }
        GPR(REG_A0) = 0; /* accept */
        break;
    default: /* informational: the guest already has the TSM's result */
        break;
    }
}

/* Returns 1 when the guest asked to shut down. */
static int ecall_exit(void)
{
    uint64_t eid = GPR(REG_A7), fid = GPR(REG_A6), a0 = GPR(REG_A0), a1 = GPR(REG_A1), a2 = GPR(REG_A0 + 2);
    uint64_t hpa;

    switch (eid) {
    case EID_LEGACY_PUTCHAR:
        guest_putc((char)a0);
        GPR(REG_A0) = 0;
        return 0;
    case EID_DBCN:
        if (fid == DBCN_WRITE && (hpa = shared_hpa(a1 | a2 << 32, a0))) {
            for (uint64_t i = 0; i < a0; i++)
                guest_putc(((const char *)hpa)[i]);
            GPR(REG_A0) = 0;
            GPR(REG_A1) = a0;
        } else if (fid == DBCN_WRITE_BYTE) {
            guest_putc((char)a0);
            GPR(REG_A0) = 0;
            GPR(REG_A1) = 0;
        } else {
            GPR(REG_A0) = fid == DBCN_WRITE ? SBI_ERR_INVALID_PARAM : SBI_ERR_NOT_SUPPORTED;
            GPR(REG_A1) = 0;
        }
        return 0;
    case EID_COVG:
        covg_exit(fid, a0, a1);
        return 0;
    case EID_TEST:
        hpa = shared_hpa(a1, 16);
        if (fid == 0 && hpa && pings < 2) {
            check(pings ? "ping2_seen_by_host" : "ping1_seen_by_host", rd64(hpa), a0);
            last_ping[pings++] = a0;
            wr64(hpa + 8, ~a0);
            GPR(REG_A0) = 0;
            GPR(REG_A1) = TEST_PONG;
        } else {
            GPR(REG_A0) = SBI_ERR_INVALID_PARAM;
            GPR(REG_A1) = 0;
        }
        return 0;
    case EID_SRST:
        srst_seen = fid == 0;
        srst_type = a0;
        srst_reason = a1;
        return 1;
    default:
        unknown_ecalls++;
        GPR(REG_A0) = SBI_ERR_NOT_SUPPORTED;
        GPR(REG_A1) = 0;
        return 0;
    }
}

static void mmio_exit(uint64_t cause, uint64_t gpa)
{
    uint64_t ins = SHM_CSR(CSR_HTINST), f3 = (ins >> 12) & 7, w = 1UL << (f3 & 3), off = gpa - GUEST_MMIO;
    uint64_t mask = w == 8 ? ~0UL : (1UL << (8 * w)) - 1, v = 0;
    int ok = off + w <= GUEST_MMIO_LEN;

    if (cause == CAUSE_GUEST_LOAD_PF) {
        mmio_loads++;
        ok &= (ins | 2) == (0x03 | f3 << 12 | 10 << 7) && f3 != 7;
        for (uint64_t i = ok ? w : 0; i-- > 0;)
            v = v << 8 | dev[off + i];
        GPR(REG_A0) = v;
    } else {
        mmio_stores++;
        v = GPR(REG_A0) & mask;
        ok &= (ins | 2) == (0x23 | f3 << 12 | 10 << 20) && f3 < 4;
        ok &= off == MMIO_STORE_OFF + 8 * (f3 & 3) && v == (MMIO_STORE_VAL & mask);
        for (uint64_t i = 0; ok && i < w; i++)
            dev[off + i] = (uint8_t)(v >> (8 * i));
    }
    if (!ok) {
        mmio_bad++;
        print("tellus: bad MMIO exit: cause ");
        print_hex(cause);
        print(" gpa ");
        print_hex(gpa);
        print(" htinst ");
        print_hex(ins);
        print(" value ");
        print_hex(v);
        print("\n");
    }
}

static void zero_page_negatives(uint64_t gpa)
{
    const uint64_t pg = conv[R_POOL].base + (POOL_PAGES - 1) * PAGE_SIZE; /* never used otherwise */
    check_err("add_zero_pages_bad_id", covh(COVH_ADD_ZERO_PAGES, tvm + 1, pg, PAGE_4K, 1, gpa).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_zero_pages_bad_type", covh(COVH_ADD_ZERO_PAGES, tvm, pg, 9, 1, gpa).error, SBI_ERR_INVALID_PARAM);
    check_err("add_zero_pages_num_zero", covh(COVH_ADD_ZERO_PAGES, tvm, pg, PAGE_4K, 0, gpa).error, SBI_ERR_INVALID_PARAM);
    check_err("add_zero_pages_not_converted", covh(COVH_ADD_ZERO_PAGES, tvm, hbuf, PAGE_4K, 1, gpa).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_zero_pages_assigned_page", covh(COVH_ADD_ZERO_PAGES, tvm, conv[R_TVM].base, PAGE_4K, 1, gpa).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_zero_pages_outside_region", covh(COVH_ADD_ZERO_PAGES, tvm, pg, PAGE_4K, 1, GUEST_OUTSIDE).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_zero_pages_gpa_misaligned", covh(COVH_ADD_ZERO_PAGES, tvm, pg, PAGE_4K, 1, gpa + 8).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_zero_pages_gpa_mapped", covh(COVH_ADD_ZERO_PAGES, tvm, pg, PAGE_4K, 1, GUEST_BASE).error,
          SBI_ERR_INVALID_ADDRESS);
}

static void shared_page_negatives(uint64_t gpa, uint64_t hpa)
{
    const uint64_t pg = conv[R_POOL].base + (POOL_PAGES - 1) * PAGE_SIZE;
    check_err("add_shared_pages_bad_id", covh(COVH_ADD_SHARED_PAGES, tvm + 1, hpa, PAGE_4K, 1, gpa).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_shared_pages_bad_type", covh(COVH_ADD_SHARED_PAGES, tvm, hpa, 9, 1, gpa).error, SBI_ERR_INVALID_PARAM);
    check_err("add_shared_pages_num_zero", covh(COVH_ADD_SHARED_PAGES, tvm, hpa, PAGE_4K, 0, gpa).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_shared_pages_confidential", covh(COVH_ADD_SHARED_PAGES, tvm, pg, PAGE_4K, 1, gpa).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_shared_pages_not_ram", covh(COVH_ADD_SHARED_PAGES, tvm, NOT_RAM, PAGE_4K, 1, gpa).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_shared_pages_not_shared_region", covh(COVH_ADD_SHARED_PAGES, tvm, hpa, PAGE_4K, 1, GUEST_ZERO).error,
          SBI_ERR_INVALID_ADDRESS);
}

/* Returns 0 to go on running, 1 to stop. */
static int fault_exit(uint64_t cause, uint64_t stval)
{
    uint64_t gpa = SHM_CSR(CSR_HTVAL) << 2 | (stval & 3), page = gpa & ~(PAGE_SIZE - 1);

    if (find_region(mmio, gpa)) {
        mmio_exit(cause, gpa);
        return 0;
    }
    if (find_region(shared, gpa)) {
        uint64_t hpa = host_shared[(share_requests - 1) & 1];
        if (!shared_adds++)
            shared_page_negatives(page, hpa);
        if (!check_err(shared_adds == 1 ? "add_shared_pages" : "add_shared_pages_reshare",
                   covh(COVH_ADD_SHARED_PAGES, tvm, hpa, PAGE_4K, 1, page).error, 0))
            return 1;
        add_map(page, hpa, MAP_SHARED);
        return 0;
    }
    if (gpa >= GUEST_REGION && gpa - GUEST_REGION < GUEST_REGION_LEN) {
        if (!zero_adds++)
            zero_page_negatives(page);
        if (pool_next >= conv[R_POOL].base + (POOL_PAGES - 1) * PAGE_SIZE) {
            check("zero_pool_exhausted", 1, 0);
            return 1;
        }
        struct sbiret r = covh(COVH_ADD_ZERO_PAGES, tvm, pool_next, PAGE_4K, 1, page);
        if (zero_adds == 1)
            check("add_zero_pages_value", r.value, 0);
        if ((zero_adds == 1 || r.error) && !check_err("add_zero_pages", r.error, 0))
            return 1;
        add_map(page, pool_next, MAP_ZERO);
        pool_next += PAGE_SIZE;
        return 0;
    }
    check("guest_fault_in_a_region", gpa, GUEST_REGION);
    return 1;
}

static void run_guest(void)
{
    unsigned long n;
    struct exit_info ex = { 0 };

    for (n = 0; n < MAX_EXITS; n++) {
        ex = run_vcpu(tvm, 0);
        if (ex.error)
            break;
        int stop = 0;
        switch (ex.scause) {
        case CAUSE_VS_ECALL:
            stop = ecall_exit();
            break;
        case CAUSE_GUEST_FETCH_PF:
        case CAUSE_GUEST_LOAD_PF:
        case CAUSE_GUEST_STORE_PF:
            stop = fault_exit(ex.scause, ex.stval);
            break;
        case CAUSE_VIRTUAL_INSN: /* WFI: nothing to wait for */
            break;
        default:
            if (!(ex.scause & CAUSE_INTERRUPT))
                stop = 1;
        }
        if (stop || ex.value)
            break;
    }
    if (glen)
        guest_putc('\n');
    check_err("run_tvm_vcpu_errors", ex.error, 0);
    check("run_exits_bounded", n < MAX_EXITS, 1);
    check("guest_exit_cause", ex.scause, CAUSE_VS_ECALL);
    check_true("guest_exit_not_resumable", ex.value != 0, ex.value);
    check("guest_srst_shutdown", srst_seen && srst_type == SRST_SHUTDOWN, 1);
    check("guest_srst_reason", srst_reason, SRST_REASON_NONE);
}

/* ---- phases ---- */

static int phase_probe(void)
{
    struct sbiret r = sbi(EID_BASE, BASE_SPEC_VERSION);
    check_err("base_spec_version", r.error, 0);
    if (!check_true("probe_covh", sbi_probe(EID_COVH) != 0, 0))
        return 0;
    check("probe_covi_absent", sbi_probe(EID_COVI), 0);
    check_true("probe_nacl", sbi_probe(EID_NACL) != 0, 0);
    r = sbi(EID_SUPD, 0);
    if (sbi_probe(EID_SUPD))
        check_true("supd_active_domains", r.error == 0 && (r.value & 1), r.value);
    else
        check_err("supd_absent_not_supported", r.error, SBI_ERR_NOT_SUPPORTED);

    check_err("nacl_probe_feature", sbi(EID_NACL, NACL_PROBE_FEATURE, 0).error, 0);
    check_err("nacl_set_shmem_misaligned", sbi(EID_NACL, NACL_SET_SHMEM, shm + 8, 0, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("nacl_set_shmem_flags", sbi(EID_NACL, NACL_SET_SHMEM, shm, 0, 1).error, SBI_ERR_INVALID_PARAM);
    check_err("nacl_set_shmem_not_ram", sbi(EID_NACL, NACL_SET_SHMEM, NOT_RAM, 0, 0).error, SBI_ERR_INVALID_ADDRESS);
    check_err("nacl_set_shmem", sbi(EID_NACL, NACL_SET_SHMEM, shm, 0, 0).error, 0);

    check_err("tsm_info_misaligned", covh(COVH_GET_TSM_INFO, hbuf + 2, 48).error, SBI_ERR_INVALID_ADDRESS);
    check_err("tsm_info_short_len", covh(COVH_GET_TSM_INFO, hbuf, 47).error, SBI_ERR_INVALID_PARAM);
    check_err("tsm_info_not_ram", covh(COVH_GET_TSM_INFO, NOT_RAM, 48).error, SBI_ERR_INVALID_ADDRESS);
    check_err("tsm_info_salus_memory", covh(COVH_GET_TSM_INFO, SALUS_MEM, 48).error, SBI_ERR_INVALID_ADDRESS);
    r = covh(COVH_GET_TSM_INFO, hbuf, 48);
    check_err("get_tsm_info", r.error, 0);
    check("get_tsm_info_len", r.value, 48);
    const struct tsm_info *info = (const struct tsm_info *)hbuf;
    check("tsm_state_ready", info->tsm_state, TSM_READY);
    check("tsm_impl_id", info->tsm_impl_id, TSM_IMPL_SALUS);
    check("tsm_capabilities", info->tsm_capabilities, TSM_CAP_MEMORY_ALLOCATION | TSM_CAP_ATTESTATION_REMOTE);
    S = info->tvm_state_pages;
    V = info->tvm_vcpu_state_pages;
    max_vcpus = info->tvm_max_vcpus;
    return check_true("tsm_info_sizes_sane",
                      info->tsm_state == TSM_READY && S <= 64 && V >= 1 && V <= 64 && max_vcpus >= 1, S);
}

/* Convert every range, with the negative cases; the host then must not be
 * able to touch the converted pages. */
static int phase_convert(void)
{
    for (int i = 0; i < R_NUM; i++)
        memset((void *)conv[i].base, 0xA5, conv[i].pages * PAGE_SIZE); /* reclaim must scrub this */
    const uint64_t b = conv[R_TVM].base, c = conv[R_POOL].base;

    check_err("convert_misaligned", convert(b + 0x800, 1), SBI_ERR_INVALID_ADDRESS);
    check_err("convert_num_zero", convert(b, 0), SBI_ERR_INVALID_PARAM);
    check_err("convert_overflow", convert(b, 1UL << 52), SBI_ERR_INVALID_PARAM);
    check_err("convert_not_ram", convert(NOT_RAM, 1), SBI_ERR_INVALID_ADDRESS);
    check_err("convert_salus_memory", convert(SALUS_MEM, 1), SBI_ERR_INVALID_ADDRESS);
    check_err("convert_nacl_shmem", convert(shm, 1), SBI_ERR_INVALID_ADDRESS);
    int ok = 1;
    for (int i = 0; i < R_LATE; i++) {
        struct sbiret r = covh(COVH_CONVERT_PAGES, conv[i].base, conv[i].pages);
        ok &= check_err(cat("convert", conv[i].name), r.error, 0);
        check(cat("convert_value", conv[i].name), r.value, 0);
    }
    check_err("convert_twice", convert(conv[R_IMAGE].base, 1), SBI_ERR_INVALID_ADDRESS);
    check_err("global_fence", covh(COVH_GLOBAL_FENCE).error, 0);
    check_err("local_fence", covh(COVH_LOCAL_FENCE).error, 0);
    check_err("global_fence_again", covh(COVH_GLOBAL_FENCE).error, 0);
    check_err("local_fence_again", covh(COVH_LOCAL_FENCE).error, 0);

    check("host_load_converted", probe_load(c), CAUSE_LOAD_ACCESS);
    check("host_load_converted_stval", trap_rec.tval, c);
    check("host_store_converted", probe_store(c + 8, 1), CAUSE_STORE_ACCESS);
    check("host_store_converted_stval", trap_rec.tval, c + 8);
    check("host_load_salus_memory", probe_load(SALUS_MEM), CAUSE_LOAD_ACCESS);
    check_err("dbcn_write_confidential", sbi(EID_DBCN, DBCN_WRITE, 8, c, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("tsm_info_confidential", covh(COVH_GET_TSM_INFO, c, 48).error, SBI_ERR_INVALID_ADDRESS);
    check_err("nacl_set_shmem_confidential", sbi(EID_NACL, NACL_SET_SHMEM, c, 0, 0).error, SBI_ERR_INVALID_ADDRESS);
    return ok;
}

static int phase_create(void)
{
    struct tvm_create_params *p = (struct tvm_create_params *)hbuf;
    const uint64_t pgdir = conv[R_TVM].base, state = pgdir + 4 * PAGE_SIZE, c = conv[R_POOL].base;
    struct sbiret r;

    *p = (struct tvm_create_params){ pgdir, state };
    check_err("create_tvm_short_len", covh(COVH_CREATE_TVM, hbuf, 8).error, SBI_ERR_INVALID_PARAM);
    check_err("create_tvm_params_not_ram", covh(COVH_CREATE_TVM, NOT_RAM, sizeof *p).error, SBI_ERR_INVALID_ADDRESS);
    check_err("create_tvm_params_confidential", covh(COVH_CREATE_TVM, c, sizeof *p).error, SBI_ERR_INVALID_ADDRESS);
    *p = (struct tvm_create_params){ pgdir + PAGE_SIZE, state };
    check_err("create_tvm_pgdir_misaligned", covh(COVH_CREATE_TVM, hbuf, sizeof *p).error, SBI_ERR_INVALID_ADDRESS);
    *p = (struct tvm_create_params){ shm, state }; /* 16 KiB aligned host pages */
    check_err("create_tvm_pgdir_not_converted", covh(COVH_CREATE_TVM, hbuf, sizeof *p).error, SBI_ERR_INVALID_ADDRESS);
    *p = (struct tvm_create_params){ pgdir, hbuf };
    check_err("create_tvm_state_not_converted", covh(COVH_CREATE_TVM, hbuf, sizeof *p).error, SBI_ERR_INVALID_ADDRESS);
    *p = (struct tvm_create_params){ pgdir, state };
    r = covh(COVH_CREATE_TVM, hbuf, sizeof *p);
    if (!check_err("create_tvm", r.error, 0))
        return 0;
    tvm = r.value;

    /* page-table pages, including one converted but not yet fenced */
    const uint64_t pt = conv[R_PT].base, late = conv[R_LATE].base;
    check_err("add_pt_pages_bad_id", covh(COVH_ADD_PT_PAGES, tvm + 1, pt, PT_PAGES).error, SBI_ERR_INVALID_PARAM);
    check_err("add_pt_pages_misaligned", covh(COVH_ADD_PT_PAGES, tvm, pt + 8, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("add_pt_pages_not_converted", covh(COVH_ADD_PT_PAGES, tvm, hbuf, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("add_pt_pages_assigned_page", covh(COVH_ADD_PT_PAGES, tvm, pgdir, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("add_pt_pages_num_zero", covh(COVH_ADD_PT_PAGES, tvm, pt, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("add_pt_pages", covh(COVH_ADD_PT_PAGES, tvm, pt, PT_PAGES / 2).error, 0);
    check_err("add_pt_pages_second_batch", covh(COVH_ADD_PT_PAGES, tvm, pt + PT_PAGES / 2 * PAGE_SIZE, PT_PAGES / 2).error, 0);
    check_err("convert_late_page", convert(late, 1), 0);
    check_err("add_pt_pages_unfenced", covh(COVH_ADD_PT_PAGES, tvm, late, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("fence_late_page", fence(), 0);
    check_err("add_pt_pages_after_fence", covh(COVH_ADD_PT_PAGES, tvm, late, 1).error, 0);

    /* memory region */
    check_err("add_region_bad_id", covh(COVH_ADD_MEMORY_REGION, tvm + 1, GUEST_REGION, GUEST_REGION_LEN).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_region_misaligned", covh(COVH_ADD_MEMORY_REGION, tvm, GUEST_REGION + 8, GUEST_REGION_LEN).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_region_len_zero", covh(COVH_ADD_MEMORY_REGION, tvm, GUEST_REGION, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("add_region_len_misaligned", covh(COVH_ADD_MEMORY_REGION, tvm, GUEST_REGION, 100).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_memory_region", covh(COVH_ADD_MEMORY_REGION, tvm, GUEST_REGION, GUEST_REGION_LEN).error, 0);
    check_err("add_region_overlap", covh(COVH_ADD_MEMORY_REGION, tvm, GUEST_REGION + 0x100000, 0x100000).error,
          SBI_ERR_INVALID_ADDRESS);

    /* measured pages: the guestvm image at GUEST_BASE */
    const uint64_t src = (uint64_t)guest_image_start, img = conv[R_IMAGE].base;
    check_err("add_measured_bad_id", covh(COVH_ADD_MEASURED_PAGES, tvm + 1, src, img, PAGE_4K, D, GUEST_BASE).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_measured_bad_type", covh(COVH_ADD_MEASURED_PAGES, tvm, src, img, 7, D, GUEST_BASE).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_measured_num_zero", covh(COVH_ADD_MEASURED_PAGES, tvm, src, img, PAGE_4K, 0, GUEST_BASE).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_measured_outside_region",
          covh(COVH_ADD_MEASURED_PAGES, tvm, src, img, PAGE_4K, D, GUEST_OUTSIDE).error, SBI_ERR_INVALID_ADDRESS);
    check_err("add_measured_gpa_misaligned",
          covh(COVH_ADD_MEASURED_PAGES, tvm, src, img, PAGE_4K, D, GUEST_BASE + 8).error, SBI_ERR_INVALID_ADDRESS);
    check_err("add_measured_dest_not_converted",
          covh(COVH_ADD_MEASURED_PAGES, tvm, src, hbuf, PAGE_4K, 1, GUEST_BASE).error, SBI_ERR_INVALID_ADDRESS);
    check_err("add_measured_source_confidential",
          covh(COVH_ADD_MEASURED_PAGES, tvm, c, img, PAGE_4K, 1, GUEST_BASE).error, SBI_ERR_INVALID_ADDRESS);
    check_err("add_measured_source_not_ram",
          covh(COVH_ADD_MEASURED_PAGES, tvm, NOT_RAM, img, PAGE_4K, 1, GUEST_BASE).error, SBI_ERR_INVALID_ADDRESS);
    r = covh(COVH_ADD_MEASURED_PAGES, tvm, src, img, PAGE_4K, D, GUEST_BASE);
    check_err("add_measured_pages", r.error, 0);
    check("add_measured_pages_value", r.value, 0);
    check_err("add_measured_dest_in_use", covh(COVH_ADD_MEASURED_PAGES, tvm, src, img, PAGE_4K, 1, GUEST_ZERO).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_measured_gpa_mapped", covh(COVH_ADD_MEASURED_PAGES, tvm, src, c, PAGE_4K, 1, GUEST_BASE).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("add_zero_pages_before_finalize", covh(COVH_ADD_ZERO_PAGES, tvm, c, PAGE_4K, 1, GUEST_ZERO).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_shared_pages_before_finalize",
          covh(COVH_ADD_SHARED_PAGES, tvm, host_shared[0], PAGE_4K, 1, GUEST_SHARED).error, SBI_ERR_INVALID_PARAM);
    check_err("run_before_finalize", covh(COVH_RUN_VCPU, tvm, 0).error, SBI_ERR_INVALID_PARAM);

    /* vCPU 0 */
    const uint64_t vs = conv[R_VCPU].base;
    check_err("create_vcpu_bad_tvm", covh(COVH_CREATE_VCPU, tvm + 1, 0, vs).error, SBI_ERR_INVALID_PARAM);
    check_err("create_vcpu_bad_vcpu_id", covh(COVH_CREATE_VCPU, tvm, max_vcpus, vs).error, SBI_ERR_INVALID_PARAM);
    check_err("create_vcpu_not_converted", covh(COVH_CREATE_VCPU, tvm, 0, hbuf).error, SBI_ERR_INVALID_ADDRESS);
    check_err("create_vcpu_misaligned", covh(COVH_CREATE_VCPU, tvm, 0, vs + 8).error, SBI_ERR_INVALID_ADDRESS);
    if (!check_err("create_tvm_vcpu", covh(COVH_CREATE_VCPU, tvm, 0, vs).error, 0))
        return 0;
    check_err("create_vcpu_duplicate", covh(COVH_CREATE_VCPU, tvm, 0, c).error, SBI_ERR_INVALID_PARAM);

    /* finalize */
    check_err("finalize_bad_id", covh(COVH_FINALIZE_TVM, tvm + 1, GUEST_BASE, 0, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("finalize_identity_misaligned", covh(COVH_FINALIZE_TVM, tvm, GUEST_BASE, 0, hbuf + 8).error,
          SBI_ERR_INVALID_PARAM);
    if (!check_err("finalize_tvm", covh(COVH_FINALIZE_TVM, tvm, GUEST_BASE, 0, 0).error, 0))
        return 0;
    check_err("finalize_twice", covh(COVH_FINALIZE_TVM, tvm, GUEST_BASE, 0, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("add_measured_after_finalize", covh(COVH_ADD_MEASURED_PAGES, tvm, src, c, PAGE_4K, 1, GUEST_ZERO).error,
          SBI_ERR_INVALID_PARAM);
    check_err("add_region_after_finalize", covh(COVH_ADD_MEMORY_REGION, tvm, 0xA0000000UL, 0x1000).error,
          SBI_ERR_INVALID_PARAM);
    check_err("create_vcpu_after_finalize", covh(COVH_CREATE_VCPU, tvm, max_vcpus > 1, c).error, SBI_ERR_INVALID_PARAM);
    return 1;
}

/* Calls with a finalized TVM that must fail without side effects. */
static void phase_runnable_negatives(void)
{
    check_err("run_bad_tvm", covh(COVH_RUN_VCPU, tvm + 1, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("run_bad_vcpu", covh(COVH_RUN_VCPU, tvm, max_vcpus).error, SBI_ERR_INVALID_PARAM);
    check_err("promote_to_tvm", covh(COVH_PROMOTE_TO_TVM, hbuf, 0, GUEST_BASE, 0).error, SBI_ERR_NOT_SUPPORTED);
    int bad = -1;
    for (int f = 0; f < COVI_NUM_FIDS && bad < 0; f++)
        if (sbi(EID_COVI, f, tvm, 0, 0).error != SBI_ERR_NOT_SUPPORTED)
            bad = f;
    check("covi_not_supported", bad, -1);
    check_err("tvm_fence_bad_id", covh(COVH_TVM_FENCE, tvm + 1).error, SBI_ERR_INVALID_PARAM);
    check_err("tvm_fence_nothing_pending", covh(COVH_TVM_FENCE, tvm).error, 0);
    check_err("invalidate_bad_id", covh(COVH_INVALIDATE_PAGES, tvm + 1, GUEST_BASE, PAGE_SIZE).error, SBI_ERR_INVALID_PARAM);
    check_err("invalidate_misaligned", covh(COVH_INVALIDATE_PAGES, tvm, GUEST_BASE + 8, PAGE_SIZE).error,
          SBI_ERR_INVALID_ADDRESS);
    check_err("invalidate_len_zero", covh(COVH_INVALIDATE_PAGES, tvm, GUEST_BASE, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("invalidate_unpopulated", covh(COVH_INVALIDATE_PAGES, tvm, GUEST_ZERO, PAGE_SIZE).error,
          SBI_ERR_INVALID_ADDRESS);
    check_error("validate_not_invalidated", covh(COVH_VALIDATE_PAGES, tvm, GUEST_BASE, PAGE_SIZE).error);
    check_error("remove_not_invalidated", covh(COVH_REMOVE_PAGES, tvm, GUEST_BASE, PAGE_SIZE).error);
    check_err("reclaim_assigned_page", covh(COVH_RECLAIM_PAGES, conv[R_TVM].base, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("reclaim_mapped_page", covh(COVH_RECLAIM_PAGES, conv[R_IMAGE].base, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("reclaim_not_converted", covh(COVH_RECLAIM_PAGES, hbuf, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("reclaim_misaligned", covh(COVH_RECLAIM_PAGES, conv[R_POOL].base + 8, 1).error, SBI_ERR_INVALID_ADDRESS);
    check_err("reclaim_num_zero", covh(COVH_RECLAIM_PAGES, conv[R_POOL].base, 0).error, SBI_ERR_INVALID_PARAM);
    check_err("destroy_bad_id", covh(COVH_DESTROY_TVM, tvm + 1).error, SBI_ERR_INVALID_PARAM);
}

static void phase_after_run(void)
{
    check_err("run_after_shutdown", covh(COVH_RUN_VCPU, tvm, 0).error, SBI_ERR_INVALID_PARAM);
    check("covg_exits_seen", covg_seen,
          1UL << COVG_ADD_MMIO_REGION | 1UL << COVG_REMOVE_MMIO_REGION | 1UL << COVG_SHARE_MEMORY |
          1UL << COVG_UNSHARE_MEMORY | 1UL << COVG_GET_ATTCAPS | 1UL << COVG_EXTEND_MEASUREMENT |
          1UL << COVG_GET_EVIDENCE | 1UL << COVG_READ_MEASUREMENT);
    check("unknown_ecall_exits", unknown_ecalls, 1);
    check("share_requests", share_requests, 2);
    check("mmio_load_exits", mmio_loads, MMIO_GUEST_LOADS);
    check("mmio_store_exits", mmio_stores, MMIO_GUEST_STORES);
    check("mmio_bad_exits", mmio_bad, 0);
    check("guest_summary_line", guest_summary_seen, 1);
    check("guest_summary_checks", guest_claimed_checks, guest_checks);
    check("guest_summary_failed", guest_claimed_failed, guest_failed);
    check_err("reclaim_before_destroy", covh(COVH_RECLAIM_PAGES, conv[R_TVM].base, 1).error, SBI_ERR_INVALID_ADDRESS);
}

static void phase_teardown(int created, int converted)
{
    if (created) {
        check_err("destroy_tvm", covh(COVH_DESTROY_TVM, tvm).error, 0);
        check_err("destroy_twice", covh(COVH_DESTROY_TVM, tvm).error, SBI_ERR_INVALID_PARAM);
        check_err("run_after_destroy", covh(COVH_RUN_VCPU, tvm, 0).error, SBI_ERR_INVALID_PARAM);
        check("host_shared_page1_kept", rd64(host_shared[0] + 8), ~last_ping[0]);
        check("host_shared_page2_kept", rd64(host_shared[1] + 8), ~last_ping[1]);
    }
    if (!converted)
        return;
    for (int i = 0; i < R_NUM; i++) {
        const struct range *r = &conv[i];
        struct sbiret s = covh(COVH_RECLAIM_PAGES, r->base, r->pages);
        check_err(cat("reclaim", r->name), s.error, 0);
        check(cat("reclaim_value", r->name), s.value, 0);
        uint64_t before = trap_rec.count;
        int zero = all_zero((void *)r->base, r->pages * PAGE_SIZE);
        check(cat("scrubbed", r->name), zero && trap_rec.count == before, 1);
    }
    check_err("reclaim_twice", covh(COVH_RECLAIM_PAGES, conv[R_POOL].base, 1).error, SBI_ERR_INVALID_ADDRESS);
    check("host_store_reclaimed", probe_store(conv[R_POOL].base, 7), NO_TRAP);
    check_err("nacl_unregister", sbi(EID_NACL, NACL_SET_SHMEM, ~0UL, ~0UL, 0).error, 0);
}

int main(unsigned long hartid, unsigned long dtb)
{
    int created = 0, converted = 0;

    (void)dtb;
    print("tellus: CoVE host test driver on hart ");
    print_dec(hartid);
    print("\n");
    for (unsigned long i = 0; i < GUEST_MMIO_LEN; i++)
        dev[i] = MMIO_BYTE(i);

    shm = alloc_pages(3, 1);
    hbuf = alloc_pages(1, 1);
    host_shared[0] = alloc_pages(1, 1);
    host_shared[1] = alloc_pages(1, 1);
    D = (uint64_t)(guest_image_end - guest_image_start) / PAGE_SIZE;

    if (phase_probe()) {
        const uint64_t pages[R_NUM] = { 4 + S, V, PT_PAGES, D, POOL_PAGES, 1 };
        for (int i = 0; i < R_NUM; i++) {
            conv[i].pages = pages[i];
            conv[i].base = alloc_pages(pages[i], i == R_TVM ? 4 : 1);
        }
        pool_next = conv[R_POOL].base;
        if (check_true("host_plan_fits", next_free <= HOST_LIMIT, next_free)) {
            converted = phase_convert();
            if (converted && (created = phase_create())) {
                phase_runnable_negatives();
                run_guest();
                phase_after_run();
            }
            phase_teardown(created, converted);
        }
    } else {
        print("tellus: COVH not available, stopping\n");
    }
    check("no_unexpected_traps", trap_rec.count, expected_traps);

    finish("tellus", n_checks + guest_checks, n_failed + guest_failed);
}
