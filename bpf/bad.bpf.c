// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bad: deliberately REJECTED by the verifier.
 *
 * handle_bad (tp/syscalls/sys_enter_execve) dereferences the result of
 * bpf_map_lookup_elem() without checking it for NULL. The verifier says
 * "R0 invalid mem access 'map_value_or_null'" and, because the object
 * carries .BTF.ext line_info, its log names the offending source line:
 * the one containing BAD_DEREF_MARKER below. Tests grep for that marker.
 *
 * The map is a HASH on purpose: kernels >= 6.x treat a lookup in an ARRAY
 * with a constant in-range key as never-NULL, so an ARRAY would load fine.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp/syscalls/sys_enter_execve")
int handle_bad(void *ctx)
{
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&counts, &key);

	*val += 1; /* BAD_DEREF_MARKER: no NULL check, the verifier refuses this */
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
