// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * usdt_auto: a USDT program whose section names its probe,
 * SEC("usdt//var/tmp/tinybpf-usdt-auto/probes:tinybpf_test:hit"), attached
 * by Object::attach_all / attach (tests/usdt.rs compiles its probe program
 * to that path). Written against libbpf's <bpf/usdt.bpf.h>.
 *
 *   auto_hit(int a, long b): adds a + b to sums[0] and 1 to sums[1]
 *
 * Array `sums`: 2 x __s64. Returns 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __s64);
} sums SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("usdt//var/tmp/tinybpf-usdt-auto/probes:tinybpf_test:hit")
int BPF_USDT(auto_hit, int a, long b)
{
	__u32 k0 = 0, k1 = 1;
	__s64 *s = bpf_map_lookup_elem(&sums, &k0), *n = bpf_map_lookup_elem(&sums, &k1);

	if (s)
		__sync_fetch_and_add(s, a + b);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
