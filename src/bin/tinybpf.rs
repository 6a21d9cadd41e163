fn main() {
    eprintln!("tinybpf: CLI not built yet");
    std::process::exit(1);
}
