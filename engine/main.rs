// Many small, short-lived allocations per request: mimalloc serves them
// faster than the system allocator. The library leaves the choice to
// whoever embeds it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    miroir::without_huge_pages();
    miroir::run()
}
