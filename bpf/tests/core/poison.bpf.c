// SPDX-License-Identifier: GPL-2.0
/*
 * Poison explanation: `struct poi` has neither `x` nor `y` in the target
 * (poison.target.bpf.o), so both offset relocations are unresolved and
 * their instructions poisoned. The verifier stops at the first one it
 * reaches (`poi.x`); the loader's summary must name that one, not the last
 * unresolved relocation in the list.
 */
#include "common.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
#ifndef CORE_TARGET
struct poi {
	int x;
	int y;
};
#else
struct poi {
	int other;
};
#endif
#pragma clang attribute pop

SEC("xdp")
int poisoned(struct xdp_md *ctx)
{
#ifndef CORE_TARGET
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	int x = bpf_core_field_offset(((struct poi *)0)->x);

	if (data + 16 > end)
		return x;
	return bpf_core_field_offset(((struct poi *)0)->y) + 1;
#else
	return bpf_core_field_offset(((struct poi *)0)->other);
#endif
}
