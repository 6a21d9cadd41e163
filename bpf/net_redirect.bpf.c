// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * net_redirect: tcx redirect for tests/net_redirect.rs (run only inside
 * test network namespaces).
 *
 * Global  redirect_to (.rodata): the interface index ICMP is redirected to.
 * Map  counts  BPF_MAP_TYPE_ARRAY, 2 x u64: IPv4 ICMP packets
 *              0 redirected by tcx_redirect, 1 seen by tcx_arrive.
 * Progs:
 *   tcx_redirect  tc (tcx ingress): bpf_redirect()s IPv4 ICMP to the
 *                 egress of redirect_to; everything else: TCX_NEXT.
 *   tcx_arrive    tc (tcx ingress): counts IPv4 ICMP, returns TCX_NEXT.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

typedef unsigned int u32;
typedef unsigned long long u64;

const volatile u32 redirect_to = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

static __always_inline void bump(u32 slot)
{
	u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int is_icmp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > end)
		return 0;
	return eth->h_proto == bpf_htons(ETH_P_IP) && ip->protocol == IPPROTO_ICMP;
}

SEC("tc")
int tcx_redirect(struct __sk_buff *skb)
{
	if (!redirect_to || !is_icmp(skb))
		return -1; /* TCX_NEXT */
	bump(0);
	return bpf_redirect(redirect_to, 0);
}

SEC("tc")
int tcx_arrive(struct __sk_buff *skb)
{
	if (is_icmp(skb))
		bump(1);
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
