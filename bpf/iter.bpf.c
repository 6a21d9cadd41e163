// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * BPF iterators (SEC("iter/...")): each program writes text lines into the
 * seq_file that user space reads from the iterator fd (BPF_ITER_CREATE) or
 * from a pinned iterator link with cat.
 *
 *   dump_task     iter/task     one line per task: "<tgid> <pid> <comm>\n"
 *                               (tasks, not only thread-group leaders)
 *   dump_bpf_map  iter/bpf_map  one line per map: "<id> <name>\n"
 *
 * `pairs` (a u32 → u32 hash map, unused by the programs) is there for the
 * bpf_map iterator to find by id.
 *
 * Both print a header line ("TGID PID COMM" / "ID NAME") before the
 * first object (meta->seq_num == 0). They return 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	/* The last call (task == NULL, at the end) may also see seq_num 0. */
	if (!task)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "TGID PID COMM\n");
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}

SEC("iter/bpf_map")
int dump_bpf_map(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;

	if (!map)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "ID NAME\n");
	BPF_SEQ_PRINTF(seq, "%u %s\n", map->id, map->name);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} pairs SEC(".maps");
