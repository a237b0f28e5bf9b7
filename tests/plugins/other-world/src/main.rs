//! A valid WebAssembly component that is not an mtdhost plugin: a command.
fn main() {
    println!("hello from another world");
}
