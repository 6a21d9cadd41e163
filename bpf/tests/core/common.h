/* Shared helpers for the CO-RE test programs (no vmlinux.h). */
#ifndef CORE_COMMON_H
#define CORE_COMMON_H
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

/* Return the check's number when it fails. */
#define CHECK(n, cond)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			return (n);                                            \
	} while (0)

/* Bytes of the pattern buffer: byte i holds i. */
#define PAT32(o)                                                               \
	((u32)(o) | (u32)((o) + 1) << 8 | (u32)((o) + 2) << 16 |               \
	 (u32)((o) + 3) << 24)
#define PAT64(o) ((u64)PAT32(o) | (u64)PAT32((o) + 4) << 32)

struct pattern_buf {
	u8 b[256];
};

char LICENSE[] SEC("license") = "GPL";
#endif
