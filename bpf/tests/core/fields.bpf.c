// SPDX-License-Identifier: GPL-2.0
/*
 * CO-RE field relocations, self-checking.
 *
 * Built twice: as is (the program's "local" layout) and with -DCORE_TARGET
 * (the "kernel" layout: fields reordered, added, removed, resized, moved into
 * anonymous unions, a flavored struct, different bitfield placement and
 * signedness). Loaded with the target's BTF as kernel BTF, `check_fields`
 * returns 0 when every relocated value equals the target layout (EXP_*
 * below), else the number of the first failing check.
 */
#include "common.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

#ifndef CORE_TARGET
struct cf_inner {
	int i1;
	int i2;
};

struct cf {
	int x;            /* 0 */
	u32 y;            /* 4 */
	char arr[4];      /* 8 */
	struct {
		int anon1; /* 12 */
		int anon2; /* 16 */
	};
	struct cf_inner in; /* 20 */
	long gone;        /* 32: absent in the target */
	u32 bf1 : 3, bf2 : 5; /* 40 */
	int bf3 : 7;
	int sgn;          /* 44 */
	void *ptr;        /* 48 */
};

/* Flavor: matches target `struct cf_flav`. */
struct cf_flav___local {
	int fa;
	int fb;
};
#define CF_FLAV cf_flav___local
#else
struct cf_inner {
	long pad;
	int i2; /* 8 */
	int i1; /* 12 */
};

struct cf {
	u64 pad0;         /* 0 */
	u64 y;            /* 8: was u32 */
	int x;            /* 16 */
	char arr[8];      /* 20 */
	int pad1;         /* 28 */
	union {
		struct {
			int anon2; /* 32 */
			int anon1; /* 36 */
		};
		long anonl;
	};
	struct cf_inner in; /* 40 */
	u32 pad2 : 4, bf2 : 6, bf1 : 3; /* bits 448.., 452.., 458.. */
	long long bf3 : 20;             /* bits 461..480 */
	u8 sgn;           /* 61: now unsigned */
	void *ptr;        /* 64 */
	long gone_in_target_renamed; /* `gone` under another name */
};

struct cf_flav {
	int fb;
	int fc;
	int fa;
};
#define CF_FLAV cf_flav
/* `gone` does not exist in the target layout. */
#define gone gone_in_target_renamed
#endif

#pragma clang attribute pop

/* The target layout (checked by the compiler in the CORE_TARGET build). */
#define EXP_X_OFF 16
#define EXP_Y_OFF 8
#define EXP_Y_SZ 8
#define EXP_ARR_OFF 20
#define EXP_ARR_SZ 8
#define EXP_ANON1_OFF 36
#define EXP_ANON2_OFF 32
#define EXP_IN_I1_OFF 52
#define EXP_SGN_OFF 61
#define EXP_PTR_OFF 64
#define EXP_FA_OFF 8
#define EXP_FB_OFF 0
/* Bitfields, per libbpf's rules (smallest aligned load containing them). */
#define EXP_BF1_OFF 56
#define EXP_BF1_SZ 4
#define EXP_BF1_LSHIFT 51
#define EXP_BF1_RSHIFT 61
#define EXP_BF2_LSHIFT 54
#define EXP_BF2_RSHIFT 58
#define EXP_BF3_OFF 56
#define EXP_BF3_SZ 8
#define EXP_BF3_LSHIFT 31
#define EXP_BF3_RSHIFT 44

#ifdef CORE_TARGET
_Static_assert(__builtin_offsetof(struct cf, x) == EXP_X_OFF, "x");
_Static_assert(__builtin_offsetof(struct cf, y) == EXP_Y_OFF, "y");
_Static_assert(__builtin_offsetof(struct cf, arr) == EXP_ARR_OFF, "arr");
_Static_assert(__builtin_offsetof(struct cf, anon1) == EXP_ANON1_OFF, "anon1");
_Static_assert(__builtin_offsetof(struct cf, anon2) == EXP_ANON2_OFF, "anon2");
_Static_assert(__builtin_offsetof(struct cf, in.i1) == EXP_IN_I1_OFF, "in.i1");
_Static_assert(__builtin_offsetof(struct cf, sgn) == EXP_SGN_OFF, "sgn");
_Static_assert(__builtin_offsetof(struct cf, ptr) == EXP_PTR_OFF, "ptr");
_Static_assert(__builtin_offsetof(struct CF_FLAV, fa) == EXP_FA_OFF, "fa");
_Static_assert(__builtin_offsetof(struct CF_FLAV, fb) == EXP_FB_OFF, "fb");
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct pattern_buf);
} cf_buf SEC(".maps");

#define FI(p, f, k) __builtin_preserve_field_info((p)->f, k)

SEC("xdp")
int check_fields(struct xdp_md *ctx)
{
	u32 zero = 0;
	struct pattern_buf *m = bpf_map_lookup_elem(&cf_buf, &zero);
	struct cf *cp;
	struct CF_FLAV *fl;

	if (!m)
		return 200;
	for (int i = 0; i < 256; i++)
		m->b[i] = i;
	cp = (void *)m;
	fl = (void *)m;

	/* FIELD_BYTE_OFFSET / FIELD_BYTE_SIZE (ALU immediates) */
	CHECK(1, bpf_core_field_offset(cp->x) == EXP_X_OFF);
	CHECK(2, bpf_core_field_offset(cp->y) == EXP_Y_OFF);
	CHECK(3, bpf_core_field_size(cp->y) == EXP_Y_SZ);
	CHECK(4, bpf_core_field_offset(cp->arr) == EXP_ARR_OFF);
	CHECK(5, bpf_core_field_size(cp->arr) == EXP_ARR_SZ);
	CHECK(6, bpf_core_field_offset(cp->anon1) == EXP_ANON1_OFF);
	CHECK(7, bpf_core_field_offset(cp->anon2) == EXP_ANON2_OFF);
	CHECK(8, bpf_core_field_offset(cp->in.i1) == EXP_IN_I1_OFF);
	CHECK(9, bpf_core_field_offset(cp->ptr) == EXP_PTR_OFF);
	CHECK(10, bpf_core_field_offset(fl->fa) == EXP_FA_OFF);
	CHECK(11, bpf_core_field_offset(fl->fb) == EXP_FB_OFF);
	CHECK(12, bpf_core_field_size(cp->sgn) == 1);
	/* FIELD_EXISTS */
	CHECK(13, bpf_core_field_exists(cp->x) == 1);
	CHECK(14, bpf_core_field_exists(cp->gone) == 0);
	/* FIELD_SIGNED */
	CHECK(15, FI(cp, sgn, BPF_FIELD_SIGNED) == 0);
	CHECK(16, FI(cp, x, BPF_FIELD_SIGNED) == 1);
	CHECK(17, FI(cp, bf3, BPF_FIELD_SIGNED) == 1);
	CHECK(18, FI(cp, bf1, BPF_FIELD_SIGNED) == 0);
	/* Bitfields */
	CHECK(19, FI(cp, bf1, BPF_FIELD_BYTE_OFFSET) == EXP_BF1_OFF);
	CHECK(20, FI(cp, bf1, BPF_FIELD_BYTE_SIZE) == EXP_BF1_SZ);
	CHECK(21, FI(cp, bf1, BPF_FIELD_LSHIFT_U64) == EXP_BF1_LSHIFT);
	CHECK(22, FI(cp, bf1, BPF_FIELD_RSHIFT_U64) == EXP_BF1_RSHIFT);
	CHECK(23, FI(cp, bf2, BPF_FIELD_LSHIFT_U64) == EXP_BF2_LSHIFT);
	CHECK(24, FI(cp, bf2, BPF_FIELD_RSHIFT_U64) == EXP_BF2_RSHIFT);
	CHECK(25, FI(cp, bf3, BPF_FIELD_BYTE_OFFSET) == EXP_BF3_OFF);
	CHECK(26, FI(cp, bf3, BPF_FIELD_BYTE_SIZE) == EXP_BF3_SZ);
	CHECK(27, FI(cp, bf3, BPF_FIELD_LSHIFT_U64) == EXP_BF3_LSHIFT);
	CHECK(28, FI(cp, bf3, BPF_FIELD_RSHIFT_U64) == EXP_BF3_RSHIFT);
	/* Relocated loads (LDX off; y's load widened from 4 to 8 bytes). */
	CHECK(29, cp->x == (int)PAT32(EXP_X_OFF));
	/* The widened load fills the whole 64-bit register (as with libbpf);
	 * the low 32 bits are what the u32 view of y means. */
	{
		volatile u32 yv = cp->y;
		CHECK(30, yv == PAT32(EXP_Y_OFF));
	}
	CHECK(31, cp->in.i1 == (int)PAT32(EXP_IN_I1_OFF));
	CHECK(32, fl->fa == (int)PAT32(EXP_FA_OFF));
	CHECK(33, (u64)cp->ptr == PAT64(EXP_PTR_OFF));
	/* Bitfield read through the relocated offset/size/shifts. */
	CHECK(34, BPF_CORE_READ_BITFIELD(cp, bf2) ==
		      ((PAT64(EXP_BF1_OFF) << EXP_BF2_LSHIFT) >> EXP_BF2_RSHIFT));
	/* Guarded access to a missing field: poisoned but dead. */
	if (bpf_core_field_exists(cp->gone))
		return 35 + (int)cp->gone;
	return 0;
}
