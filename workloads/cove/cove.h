/* RISC-V CoVE SBI ABI as used by tellus (host driver) and guestvm (TVM):
 * numbering of the current spec (riscv-ap-tee c71310c), see
 * docs/salus.md and the CoVE digest.  RV64 only. */
#ifndef COVE_H
#define COVE_H
#include <stdint.h>

/* Extension IDs */
#define EID_LEGACY_PUTCHAR 0x01UL
#define EID_BASE  0x10UL
#define EID_SUPD  0x53555044UL /* "SUPD" */
#define EID_COVH  0x434F5648UL /* "COVH" */
#define EID_COVI  0x434F5649UL /* "COVI" */
#define EID_COVG  0x434F5647UL /* "COVG" */
#define EID_NACL  0x4E41434CUL /* "NACL" */
#define EID_SRST  0x53525354UL /* "SRST" */
#define EID_DBCN  0x4442434EUL /* "DBCN" */
#define EID_TEST  0x54455354UL /* "TEST": private guest -> tellus ping */

/* Base */
#define BASE_SPEC_VERSION 0
#define BASE_IMPL_ID      1
#define BASE_PROBE_EXT    3

/* COVH */
enum {
    COVH_GET_TSM_INFO, COVH_CONVERT_PAGES, COVH_RECLAIM_PAGES, COVH_GLOBAL_FENCE,
    COVH_LOCAL_FENCE, COVH_CREATE_TVM, COVH_FINALIZE_TVM, COVH_PROMOTE_TO_TVM,
    COVH_DESTROY_TVM, COVH_ADD_MEMORY_REGION, COVH_ADD_PT_PAGES, COVH_ADD_MEASURED_PAGES,
    COVH_ADD_ZERO_PAGES, COVH_ADD_SHARED_PAGES, COVH_CREATE_VCPU, COVH_RUN_VCPU,
    COVH_TVM_FENCE, COVH_INVALIDATE_PAGES, COVH_VALIDATE_PAGES, COVH_REMOVE_PAGES,
};

/* COVI: FIDs 0..10, all NOT_SUPPORTED by our TSM */
#define COVI_NUM_FIDS 11

/* COVG */
enum {
    COVG_ADD_MMIO_REGION, COVG_REMOVE_MMIO_REGION, COVG_SHARE_MEMORY, COVG_UNSHARE_MEMORY,
    COVG_ALLOW_EXT_IRQ, COVG_DENY_EXT_IRQ, COVG_GET_ATTCAPS, COVG_EXTEND_MEASUREMENT,
    COVG_GET_EVIDENCE, COVG_RETRIEVE_SECRET, COVG_READ_MEASUREMENT,
};

/* NACL */
#define NACL_PROBE_FEATURE 0
#define NACL_SET_SHMEM     1

/* DBCN */
#define DBCN_WRITE      0
#define DBCN_READ       1
#define DBCN_WRITE_BYTE 2

/* SRST */
#define SRST_SHUTDOWN        0
#define SRST_REASON_NONE     0
#define SRST_REASON_FAILURE  1

/* Error codes */
#define SBI_SUCCESS              0
#define SBI_ERR_FAILED          -1
#define SBI_ERR_NOT_SUPPORTED   -2
#define SBI_ERR_INVALID_PARAM   -3
#define SBI_ERR_DENIED          -4
#define SBI_ERR_INVALID_ADDRESS -5
#define SBI_ERR_ALREADY_AVAILABLE -6
#define SBI_ERR_ALREADY_STARTED -7
#define SBI_ERR_ALREADY_STOPPED -8
#define SBI_ERR_NO_SHMEM        -9
/* CoVE-only codes, project-local numbers */
#define SBI_ERR_AUTH            -100
#define SBI_ERR_OUT_OF_MEMORY   -101
#define SBI_ERR_OUT_OF_PTPAGES  -102
#define SBI_ERR_BUSY            -103

/* struct tsm_info (48 bytes) */
#define TSM_NOT_LOADED 0
#define TSM_LOADED     1
#define TSM_READY      2
#define TSM_IMPL_SALUS 1
#define TSM_CAP_PROMOTE_TVM        (1UL << 0)
#define TSM_CAP_ATTESTATION_LOCAL  (1UL << 1)
#define TSM_CAP_ATTESTATION_REMOTE (1UL << 2)
#define TSM_CAP_AIA                (1UL << 3)
#define TSM_CAP_MRIF               (1UL << 4)
#define TSM_CAP_MEMORY_ALLOCATION  (1UL << 5)
struct tsm_info {
    uint32_t tsm_state;
    uint32_t tsm_impl_id;
    uint32_t tsm_version;
    uint32_t pad;
    uint64_t tsm_capabilities;
    uint64_t tvm_state_pages;
    uint64_t tvm_max_vcpus;
    uint64_t tvm_vcpu_state_pages;
};
_Static_assert(sizeof(struct tsm_info) == 48, "tsm_info");

/* struct tvm_create_params (16 bytes) */
struct tvm_create_params {
    uint64_t tvm_page_directory_addr; /* 16 KiB, 16 KiB aligned */
    uint64_t tvm_state_addr;          /* tsm_info.tvm_state_pages pages */
};
_Static_assert(sizeof(struct tvm_create_params) == 16, "tvm_create_params");

/* tsm_page_type */
#define PAGE_4K   0
#define PAGE_2MB  1
#define PAGE_1GB  2
#define PAGE_512GB 3
#define PAGE_SIZE 4096UL

/* TVM state */
#define TVM_INITIALIZING 0
#define TVM_RUNNABLE     1

/* AttestationCapabilities (336 bytes) */
#define HASH_SHA384 0
#define CERT_FORMAT_CBOR 1
#define CERT_FORMAT_X509 2
#define MSMT_INITIAL 0
#define MSMT_RUNTIME 1
struct msmt_reg_desc {
    uint32_t hash_algorithm;
    uint32_t measurement_type;
    uint8_t tcg_pcr_index;
    uint8_t pad[3];
};
struct attestation_caps {
    uint64_t tcb_svn;
    uint32_t hash_algorithm;
    uint32_t certificate_formats;
    uint8_t initial_measurements;
    uint8_t runtime_measurements;
    uint8_t pad[2];
    struct msmt_reg_desc msmt_regs[26];
    uint32_t pad2;
};
_Static_assert(sizeof(struct attestation_caps) == 336, "attestation_caps");
#define SHA384_LEN 48
/* Our TSM's register layout: msmt_regs[] position = index argument. */
#define MSMT_PLATFORM_CODE   0
#define MSMT_PLATFORM_CONFIG 1
#define MSMT_TVM_PAGES       2
#define MSMT_TVM_CONFIG      3
#define MSMT_FIRST_RUNTIME   4
#define MSMT_NUM_REGS        8

/* NACL shared memory (12 KiB per hart) */
#define NACL_SHMEM_SIZE 0x3000UL
#define NACL_GPR_OFF(i) (8UL * (i))
#define NACL_CSR_IDX(csr) (((((csr) >> 10) & 3) << 8) | ((csr) & 0xFF))
#define NACL_CSR_OFF(csr) (0x1000UL + 8UL * NACL_CSR_IDX(csr))
#define CSR_HTVAL  0x643
#define CSR_HTINST 0x64A
#define REG_A0 10
#define REG_A1 11
#define REG_A6 16
#define REG_A7 17

/* Exit causes (host scause after run_tvm_vcpu) */
#define CAUSE_LOAD_ACCESS    5
#define CAUSE_STORE_ACCESS   7
#define CAUSE_VS_ECALL       10
#define CAUSE_GUEST_FETCH_PF 20
#define CAUSE_GUEST_LOAD_PF  21
#define CAUSE_VIRTUAL_INSN   22
#define CAUSE_GUEST_STORE_PF 23
#define CAUSE_INTERRUPT      (1UL << 63)

/* ---- contract between tellus and guestvm ---- */
#define GUEST_BASE      0x80200000UL  /* link/entry address, measured image */
#define GUEST_REGION    0x80200000UL  /* confidential memory region */
#define GUEST_REGION_LEN 0x600000UL
#define GUEST_SHARED    0x80600000UL  /* page the guest shares with tellus */
#define GUEST_ZERO      0x80700000UL  /* demand-zero test pages */
#define GUEST_ZERO_PAGES 4
#define GUEST_OUTSIDE   0x90000000UL  /* in no region */
#define GUEST_MMIO      0x30000000UL  /* MMIO region the guest adds */
#define GUEST_MMIO_LEN  0x1000UL
/* Emulated device: every byte has bit 7 set so narrow signed loads sign-extend. */
#define MMIO_BYTE(off)  ((uint8_t)(0x80 | ((off) & 0x7F)))
#define MMIO_STORE_OFF  0x100UL       /* stores of width w go to MMIO_STORE_OFF + 8*log2(w) */
#define MMIO_STORE_VAL  0xC3B4A59687786950UL /* truncated to the store width */
#define MMIO_GUEST_LOADS  12          /* MMIO accesses guestvm makes */
#define MMIO_GUEST_STORES 4
/* TEST ecall: a0 = value written to shared[0], a1 = gpa of the shared page;
 * tellus writes ~a0 to shared[1] and returns value TEST_PONG. */
#define TEST_PONG 0x706F6E67UL

/* ---- SBI calls ---- */
struct sbiret { long error; long value; };

static inline struct sbiret sbi_call(unsigned long eid, unsigned long fid,
                                     unsigned long a0, unsigned long a1, unsigned long a2,
                                     unsigned long a3, unsigned long a4, unsigned long a5)
{
    register unsigned long r0 __asm__("a0") = a0;
    register unsigned long r1 __asm__("a1") = a1;
    register unsigned long r2 __asm__("a2") = a2;
    register unsigned long r3 __asm__("a3") = a3;
    register unsigned long r4 __asm__("a4") = a4;
    register unsigned long r5 __asm__("a5") = a5;
    register unsigned long r6 __asm__("a6") = fid;
    register unsigned long r7 __asm__("a7") = eid;
    __asm__ volatile("ecall"
                     : "+r"(r0), "+r"(r1)
                     : "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6), "r"(r7)
                     : "memory");
    return (struct sbiret){ (long)r0, (long)r1 };
}

/* sbi(eid, fid, args...): missing arguments are 0. */
#define SBI_ARGS6_(x, a, b, c, d, e, f, ...) a, b, c, d, e, f
#define sbi(eid, fid, ...) sbi_call(eid, fid, SBI_ARGS6_(0, ##__VA_ARGS__, 0, 0, 0, 0, 0, 0))
#define covh(fid, ...) sbi(EID_COVH, fid, ##__VA_ARGS__)
#define covg(fid, ...) sbi(EID_COVG, fid, ##__VA_ARGS__)

static inline long sbi_probe(unsigned long eid)
{
    return sbi(EID_BASE, BASE_PROBE_EXT, eid).value;
}
#endif
