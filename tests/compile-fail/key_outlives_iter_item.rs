use sharded_map::ShardedMap;

fn main() {
    let map = ShardedMap::new();
    map.insert(1, 1);
    let key: &i32 = map.iter().next().unwrap().key();
    println!("{key}");
}
