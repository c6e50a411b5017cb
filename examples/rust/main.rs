// rust: a Rust std program (a HashMap, a thread, args), built as a static-PIE
// with +crt-static. Built only where rustc is installed.
use std::collections::HashMap;
use std::thread;
fn main() {
    let mut m = HashMap::new();
    for i in 0..10 { m.insert(i, i * i); }
    let h = thread::spawn(move || m.values().sum::<i32>());
    println!("rust: sum of squares {}", h.join().unwrap());
    let args: Vec<String> = std::env::args().collect();
    println!("rust: args {:?}", &args[1..]);
}
