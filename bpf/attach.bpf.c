// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * attach: one program per attach kind, for the loader's attach tests.
 * Each bumps its own slot of the ARRAY map `hits` (__u32 -> __u64, 8).
 *
 *   slot program             section                      program type
 *   0    on_raw_sys_enter    raw_tp/sys_enter             RAW_TRACEPOINT
 *   1    on_sched_exec       tp_btf/sched_process_exec    TRACING (BPF_TRACE_RAW_TP,
 *                                                         attach_btf_id of
 *                                                         btf_trace_sched_process_exec)
 *   2    on_unlinkat_entry   fentry/do_unlinkat           TRACING (BPF_TRACE_FENTRY,
 *                                                         attach_btf_id of do_unlinkat);
 *                                                         may be refused by some kernels
 *   3    on_uprobe           uprobe                       KPROBE; no target in the name:
 *                                                         user space gives binary + offset
 *   4    on_uretprobe        uretprobe                    KPROBE (return probe)
 *   5    on_kprobe_unlinkat  kprobe/do_unlinkat           KPROBE; loads, but attaching
 *                                                         fails where CONFIG_KPROBES=n
 *   6    on_perf_event       perf_event                   PERF_EVENT (e.g. a software
 *                                                         cpu-clock event)
 * All return 0. None needs vmlinux.h: every ctx is taken as an opaque
 * pointer and never dereferenced.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum slot {
	SLOT_RAW_TP,
	SLOT_TP_BTF,
	SLOT_FENTRY,
	SLOT_UPROBE,
	SLOT_URETPROBE,
	SLOT_KPROBE,
	SLOT_PERF_EVENT,
	NR_SLOTS = 8,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_raw_sys_enter(void *ctx) { return bump(SLOT_RAW_TP); }

SEC("tp_btf/sched_process_exec")
int on_sched_exec(__u64 *ctx) { return bump(SLOT_TP_BTF); }

SEC("fentry/do_unlinkat")
int on_unlinkat_entry(__u64 *ctx) { return bump(SLOT_FENTRY); }

SEC("uprobe")
int on_uprobe(void *ctx) { return bump(SLOT_UPROBE); }

SEC("uretprobe")
int on_uretprobe(void *ctx) { return bump(SLOT_URETPROBE); }

SEC("kprobe/do_unlinkat")
int on_kprobe_unlinkat(void *ctx) { return bump(SLOT_KPROBE); }

SEC("perf_event")
int on_perf_event(void *ctx) { return bump(SLOT_PERF_EVENT); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
