// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * xdp_drop: drops IPv4 ICMP on the interface it is attached to
 * (examples/xdp_drop.rs, tests/net_examples.rs).
 *
 * Map  dropped  BPF_MAP_TYPE_ARRAY, 1 x u64: ICMP packets dropped so far.
 * Prog xdp_drop_icmp  xdp: counts and drops IPv4 ICMP, passes the rest.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

typedef unsigned int u32;
typedef unsigned long long u64;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} dropped SEC(".maps");

SEC("xdp")
int xdp_drop_icmp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	u32 zero = 0;
	u64 *n;

	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	n = bpf_map_lookup_elem(&dropped, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
