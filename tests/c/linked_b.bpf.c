#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int shared_val;
__noinline int helper_add(int x) { return x + shared_val + 2; }
int weak_fn(int x) { return x + 1; }
SEC("xdp") int xdp_b(struct xdp_md *ctx) { return helper_add(0) == 9 ? XDP_PASS : XDP_DROP; }
