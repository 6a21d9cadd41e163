// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * cgroup_connect: connect(2) to port FROM_PORT goes to port TO_PORT instead,
 * for the processes of the cgroup it is attached to
 * (examples/cgroup_connect.rs, tests/net_examples.rs, tests/net_redirect.rs).
 *
 * Globals  from_port, to_port (.rodata, host byte order): set before load.
 * Map  redirected  BPF_MAP_TYPE_ARRAY, 1 x u64: connect() calls rewritten.
 * Prog redirect_port  cgroup/connect4: rewrites the destination port of
 *      IPv4 connect() (TCP and UDP); always allows the call.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned long long u64;

const volatile u16 from_port = 0;
const volatile u16 to_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} redirected SEC(".maps");

SEC("cgroup/connect4")
int redirect_port(struct bpf_sock_addr *ctx)
{
	u32 zero = 0;
	u64 *n;

	if (!from_port || ctx->user_port != bpf_htons(from_port))
		return 1;
	ctx->user_port = bpf_htons(to_port);
	n = bpf_map_lookup_elem(&redirected, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
