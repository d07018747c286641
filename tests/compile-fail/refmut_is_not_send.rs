use sharded_map::ShardedMap;

fn main() {
    let map: &'static ShardedMap<u32, u32> = Box::leak(Box::new(ShardedMap::new()));
    let guard = map.entry(1).or_insert(0);
    std::thread::spawn(move || {
        drop(guard);
    });
}
