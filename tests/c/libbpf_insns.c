// SPDX-License-Identifier: GPL-2.0
/*
 * Test-time reference (never linked into the crate): open OBJ with libbpf,
 * relocating CO-RE against BTF (bpf_object_open_opts.btf_custom_path), load
 * it, and write each program's final instructions (bpf_program__insns()
 * after load) to OUTDIR/<program>.insns, like tinybpf's --dump-insns.
 *
 * usage: libbpf_insns OBJ BTF OUTDIR
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	char path[4096];
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJ BTF OUTDIR\n", argv[0]);
		return 2;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argv[2]);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		fprintf(stderr, "open %s failed\n", argv[1]);
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load %s failed: %d\n", argv[1], err);
		bpf_object__close(obj);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		const struct bpf_insn *insns = bpf_program__insns(prog);
		size_t n = bpf_program__insn_cnt(prog);
		FILE *f;

		if (!bpf_program__autoload(prog))
			continue;
		if (!insns || !n) {
			fprintf(stderr, "%s: no instructions after load\n",
				bpf_program__name(prog));
			bpf_object__close(obj);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%s.insns", argv[3],
			 bpf_program__name(prog));
		f = fopen(path, "wb");
		if (!f || fwrite(insns, sizeof(*insns), n, f) != n) {
			fprintf(stderr, "write %s failed\n", path);
			bpf_object__close(obj);
			return 1;
		}
		fclose(f);
	}
	bpf_object__close(obj);
	return 0;
}
