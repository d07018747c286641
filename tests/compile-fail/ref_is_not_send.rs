use sharded_map::ShardedMap;

fn main() {
    let map: &'static ShardedMap<u32, u32> = Box::leak(Box::new(ShardedMap::new()));
    map.insert(1, 1);
    let guard = map.get(&1).unwrap();
    std::thread::spawn(move || {
        println!("{}", *guard);
    });
}
