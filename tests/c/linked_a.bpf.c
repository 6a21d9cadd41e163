#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
int shared_val = 7;
extern int helper_add(int x);
__weak int weak_fn(int x) { return x + 1; }
SEC("xdp") int xdp_a(struct xdp_md *ctx) { return helper_add(weak_fn(0)) == 10 ? XDP_PASS : XDP_DROP; }
char LICENSE[] SEC("license") = "GPL";
