// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ksyms: `.ksyms` externs, run by BPF_PROG_TEST_RUN
 * (SEC("syscall")) and read back through `out` in .bss:
 *
 * - an untyped kernel symbol (schedule): its /proc/kallsyms address;
 * - weak missing variables, typed and untyped: 0;
 * - kfuncs (bpf_task_from_pid/bpf_task_release, bpf_rcu_read_lock/unlock,
 *   bpf_cpumask_create/release): BPF_PSEUDO_KFUNC_CALL;
 * - a weak missing kfunc behind bpf_ksym_exists(): its call is dead code.
 * Typed kernel variables are in ksyms_percpu.bpf.c (the kernel needs them
 * in its own kallsyms, which needs CONFIG_KALLSYMS_ALL).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifndef bpf_ksym_exists /* libbpf before 1.2 */
#define bpf_ksym_exists(sym) ({ \
	_Static_assert(!__builtin_constant_p(!!sym), #sym " should be marked as __weak"); \
	!!sym; \
})
#endif

extern const void schedule __ksym;
extern const void tinybpf_no_such_symbol __ksym __weak;
extern const int tinybpf_no_such_var __ksym __weak;

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern void tinybpf_no_such_kfunc(int x) __ksym __weak;

const volatile s32 target_pid = 0;

struct {
	u64 schedule_addr;       /* /proc/kallsyms address of schedule */
	u64 missing_sym;         /* 0 */
	u64 missing_var;         /* 0 */
	u64 task_pid;            /* bpf_task_from_pid(target_pid)->pid */
	u64 cpumask_made;        /* 1 */
	u64 missing_kfunc_exists;/* 0 */
	u64 rcu_lock_exists;     /* 1 */
	u64 done;                /* 1 */
} out;

SEC("syscall")
int ksyms_run(void *ctx)
{
	struct task_struct *t;
	struct bpf_cpumask *m;

	out.schedule_addr = (u64)&schedule;
	out.missing_sym = (u64)&tinybpf_no_such_symbol;
	out.missing_var = (u64)&tinybpf_no_such_var;

	t = bpf_task_from_pid(target_pid);
	if (t) {
		out.task_pid = t->pid;
		bpf_task_release(t);
	}
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	m = bpf_cpumask_create();
	if (m) {
		out.cpumask_made = 1;
		bpf_cpumask_release(m);
	}
	if (bpf_ksym_exists(tinybpf_no_such_kfunc)) {
		tinybpf_no_such_kfunc(1);
		out.missing_kfunc_exists = 1;
	}
	out.rcu_lock_exists = bpf_ksym_exists(bpf_rcu_read_lock);
	out.done = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
