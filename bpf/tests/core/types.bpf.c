// SPDX-License-Identifier: GPL-2.0
/*
 * CO-RE type-based and enum relocations, self-checking: TYPE_ID_LOCAL,
 * TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE, TYPE_MATCHES, ENUMVAL_EXISTS,
 * ENUMVAL_VALUE (32- and 64-bit enums, flavored enum). Built twice (see
 * fields.bpf.c); loaded against the target's BTF, `check_types` returns 0
 * when every value equals the target layout, else the failing check.
 */
#include "common.h"

#ifndef CORE_TARGET
struct ct {
	int a;
	int b;
}; /* 8 bytes */
struct ct_gone {
	int g;
};
/* matches the target: same member names, compatible types */
struct ct_match {
	int a;
	long b;
};
/* does not match: `a` changes signedness in the target */
struct ct_nomatch {
	int a;
};
enum ce { CE_A = 1, CE_B = 2, CE_GONE = 3 };
enum ce64 { CE64_BIG = 0x100000000ULL, CE64_X = 1 };
enum cef___v1 { CEF_ONE = 1 };
#define CEF cef___v1
#else
struct ct {
	long pad;
	int a;
	int b;
	long more;
}; /* 24 bytes */
struct ct_gone_in_target {
	int g;
};
#define ct_gone ct_gone_in_target
struct ct_match {
	long b;
	int a;
	int extra;
};
struct ct_nomatch {
	unsigned int a;
};
enum ce { CE_B = 20, CE_NEW = 5, CE_A = 10 };
enum ce64 { CE64_X = 0x200000000ULL, CE64_BIG = 0x7fff00000000ULL };
enum cef { CEF_ONE = 7 };
#define CEF cef
#define CE_GONE CE_NEW
#endif

#define EXP_CT_SIZE 24
#define EXP_CE_A 10
#define EXP_CE_B 20
#define EXP_CE64_BIG 0x7fff00000000ULL
#define EXP_CE64_X 0x200000000ULL
#define EXP_CEF_ONE 7

#ifdef CORE_TARGET
_Static_assert(sizeof(struct ct) == EXP_CT_SIZE, "ct");
_Static_assert(CE_A == EXP_CE_A && CE_B == EXP_CE_B, "ce");
_Static_assert(CE64_BIG == EXP_CE64_BIG && CE64_X == EXP_CE64_X, "ce64");
#endif

SEC("xdp")
int check_types(struct xdp_md *ctx)
{
	/* TYPE_EXISTS / TYPE_SIZE */
	CHECK(1, bpf_core_type_exists(struct ct) == 1);
	CHECK(2, bpf_core_type_exists(struct ct_gone) == 0);
	CHECK(3, bpf_core_type_size(struct ct) == EXP_CT_SIZE);
	/* TYPE_MATCHES */
	CHECK(4, bpf_core_type_matches(struct ct_match) == 1);
	CHECK(5, bpf_core_type_matches(struct ct_nomatch) == 0);
	/* TYPE_ID_LOCAL / TYPE_ID_TARGET: ids are BTF-specific, nonzero */
	CHECK(6, bpf_core_type_id_local(struct ct) != 0);
	CHECK(7, bpf_core_type_id_kernel(struct ct) != 0);
	CHECK(8, bpf_core_type_id_kernel(struct ct_gone) == 0);
	/* ENUMVAL_EXISTS / ENUMVAL_VALUE */
	CHECK(9, bpf_core_enum_value_exists(enum ce, CE_A) == 1);
	CHECK(10, bpf_core_enum_value_exists(enum ce, CE_GONE) == 0);
	CHECK(11, bpf_core_enum_value(enum ce, CE_A) == EXP_CE_A);
	CHECK(12, bpf_core_enum_value(enum ce, CE_B) == EXP_CE_B);
	CHECK(13, bpf_core_enum_value(enum ce64, CE64_BIG) == EXP_CE64_BIG);
	CHECK(14, bpf_core_enum_value(enum ce64, CE64_X) == EXP_CE64_X);
	CHECK(15, bpf_core_enum_value(enum CEF, CEF_ONE) == EXP_CEF_ONE);
	return 0;
}
