// A minimal libbpf loader, the yardstick for whole-process timing
// (bench/whole.sh): open OBJ, load every program and map, exit. Nothing is
// attached or pinned; everything is released on exit.
//
// Build: cc -O2 -o load_libbpf load_libbpf.c -lbpf -lelf -lz
#include <bpf/libbpf.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: load_libbpf OBJ\n");
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "load_libbpf: %s: open failed\n", argv[1]);
		return 1;
	}
	int err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load_libbpf: %s: load failed (%d)\n", argv[1], err);
		bpf_object__close(obj);
		return 1;
	}
	bpf_object__close(obj);
	return 0;
}
