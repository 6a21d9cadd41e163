// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * kconfig: `.kconfig` externs of every supported kind, checked against
 * expectations user space writes into .rodata (set_global) before load.
 *
 * xdp_kconfig (SEC("xdp"), run with BPF_PROG_TEST_RUN) returns 0 when every
 * extern holds what user space expects, else the number of the first check
 * that failed (1..12), so a failure says which extern was wrong.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

/* Special LINUX_* externs, computed by the loader. */
extern __u32 LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig __weak;

/* CONFIG_* externs from the kernel config. */
extern bool CONFIG_BPF __kconfig;                              /* =y      */
extern bool CONFIG_TINYBPF_DOES_NOT_EXIST __kconfig __weak;    /* absent  */
extern int CONFIG_HZ __kconfig;                                /* decimal */
extern unsigned long long CONFIG_PHYSICAL_START __kconfig __weak; /* hex   */
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig;      /* =y      */
extern enum libbpf_tristate CONFIG_TINYBPF_TRISTATE_MISSING __kconfig __weak;
extern char CONFIG_64BIT_CHAR_UNUSED __kconfig __weak;
extern char CONFIG_X86_64 __kconfig __weak;                    /* 'y'     */
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;          /* string  */
extern unsigned short CONFIG_TINYBPF_U16_MISSING __kconfig __weak;

const volatile __u32 expect_version = 0;
const volatile int expect_hz = 0;
const volatile __u64 expect_phys_start = 0;
const volatile char expect_x86_64 = 0;
const volatile char expect_localversion[16] = {};

SEC("xdp")
int xdp_kconfig(struct xdp_md *ctx)
{
	int i;

	if (LINUX_KERNEL_VERSION != expect_version)
		return 1;
	if (!CONFIG_BPF)
		return 2;
	if (CONFIG_TINYBPF_DOES_NOT_EXIST)
		return 3;
	if (CONFIG_HZ != expect_hz)
		return 4;
	if (CONFIG_PHYSICAL_START != expect_phys_start)
		return 5;
	if (CONFIG_BPF_SYSCALL != TRI_YES)
		return 6;
	if (CONFIG_TINYBPF_TRISTATE_MISSING != TRI_NO)
		return 7;
	if (CONFIG_X86_64 != expect_x86_64)
		return 8;
	for (i = 0; i < 16; i++)
		if (CONFIG_LOCALVERSION[i] != expect_localversion[i])
			return 9;
	if (CONFIG_TINYBPF_U16_MISSING != 0 || CONFIG_64BIT_CHAR_UNUSED != 0)
		return 10;
	if (!LINUX_HAS_BPF_COOKIE)
		return 11;
	if (!LINUX_HAS_SYSCALL_WRAPPER)
		return 12;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
