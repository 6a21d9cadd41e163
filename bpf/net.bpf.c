// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * net: networking programs for tests/net.rs (run only inside test netns).
 *
 * Map  counts  BPF_MAP_TYPE_ARRAY, 16 x u64: IPv4 ICMP packets seen by
 *              0 xdp_drop_icmp, 1 tc_ingress, 2 tc_egress, 3 tc_legacy,
 *              4 cg_skb_drop; 5 tcx_first, 6 tcx_second; 7 sock_drop
 *              (every packet); 8 nf_drop (every IPv4 packet), 9 sk_lookup
 *              steers, 10 sk_msg messages.
 * Map  steer_to, msg_socks  BPF_MAP_TYPE_SOCKMAP (sk_lookup, sk_msg).
 * Map  order   BPF_MAP_TYPE_ARRAY, 4 x u32: slot 0 is a step counter; slot
 *              1 (tcx_first) and 2 (tcx_second) get the step at which the
 *              program first saw an ICMP packet (1-based).
 * Progs:
 *   xdp_drop_icmp   xdp: counts and drops IPv4 ICMP, passes the rest.
 *   tc_ingress      tc (tcx ingress): counts ICMP, returns TCX_NEXT.
 *   tc_egress       tc (tcx egress): counts ICMP, returns TCX_NEXT.
 *   tcx_first/second tc: record their order, return TCX_NEXT.
 *   tc_legacy       tc (cls_bpf direct action): counts ICMP, TC_ACT_OK.
 *   cg_sock_deny    cgroup/sock_create: denies every socket.
 *   cg_skb_drop     cgroup_skb/egress: counts ICMP and UDP, drops them.
 *   sock_drop       socket: counts every packet (slot 7), keeps none.
 *   nf_drop         netfilter: counts and drops every packet of its hook.
 *   steer           sk_lookup: UDP for port 7007 goes to steer_to[0].
 *   msg_count       sk_msg: counts messages, passes them.
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
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

/* sk_lookup: the socket that gets datagrams for STEER_PORT. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} steer_to SEC(".maps");

/* sk_msg: sockets whose sends run msg_count. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} msg_socks SEC(".maps");

#define STEER_PORT 7007

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, u32);
} order SEC(".maps");

static __always_inline void bump(u32 slot)
{
	u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Whether [data, end) is an Ethernet frame carrying IPv4 protocol `proto`. */
static __always_inline int is_ipv4(void *data, void *end, int proto)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	return ip->protocol == proto;
}

/* Whether an skb (data starts at the IP header) is IPv4 `proto`. */
static __always_inline int skb_l3_is(struct __sk_buff *skb, int proto)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;

	if ((void *)(ip + 1) > end)
		return 0;
	return ip->version == 4 && ip->protocol == proto;
}

SEC("xdp")
int xdp_drop_icmp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (!is_ipv4(data, end, IPPROTO_ICMP))
		return XDP_PASS;
	bump(0);
	return XDP_DROP;
}

static __always_inline int tc_icmp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	return is_ipv4(data, end, IPPROTO_ICMP);
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	if (tc_icmp(skb))
		bump(1);
	return -1; /* TCX_NEXT */
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	if (tc_icmp(skb))
		bump(2);
	return -1;
}

static __always_inline void record(u32 me)
{
	u32 zero = 0;
	u32 *step = bpf_map_lookup_elem(&order, &zero);
	u32 *mine = bpf_map_lookup_elem(&order, &me);

	if (!step || !mine || *mine)
		return;
	/* packets arrive one at a time here: no atomics needed */
	*step += 1;
	*mine = *step;
}

SEC("tc")
int tcx_first(struct __sk_buff *skb)
{
	if (tc_icmp(skb)) {
		bump(5);
		record(1);
	}
	return -1;
}

SEC("tc")
int tcx_second(struct __sk_buff *skb)
{
	if (tc_icmp(skb)) {
		bump(6);
		record(2);
	}
	return -1;
}

SEC("tc")
int tc_legacy(struct __sk_buff *skb)
{
	if (tc_icmp(skb))
		bump(3);
	return 0; /* TC_ACT_OK */
}

SEC("cgroup/sock_create")
int cg_sock_deny(struct bpf_sock *sk)
{
	return 0;
}

SEC("cgroup_skb/egress")
int cg_skb_drop(struct __sk_buff *skb)
{
	if (skb_l3_is(skb, IPPROTO_ICMP) || skb_l3_is(skb, IPPROTO_UDP)) {
		bump(4);
		return 0;
	}
	return 1;
}

SEC("socket")
int sock_drop(struct __sk_buff *skb)
{
	bump(7);
	return 0;
}

SEC("netfilter")
int nf_drop(void *ctx)
{
	bump(8);
	return 0; /* NF_DROP */
}

SEC("sk_lookup")
int steer(struct bpf_sk_lookup *ctx)
{
	u32 zero = 0;
	struct bpf_sock *sk;
	long err;

	if (ctx->protocol != IPPROTO_UDP || ctx->local_port != STEER_PORT)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&steer_to, &zero);
	if (!sk)
		return SK_PASS;
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (!err)
		bump(9);
	return SK_PASS;
}

SEC("sk_msg")
int msg_count(struct sk_msg_md *msg)
{
	bump(10);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
