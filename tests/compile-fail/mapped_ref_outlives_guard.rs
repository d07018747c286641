use sharded_map::ShardedMap;

fn main() {
    let map = ShardedMap::new();
    map.insert(1, vec![1, 2, 3]);
    let first: &i32 = {
        let mapped = map.get(&1).unwrap().map(|v| &v[0]);
        &*mapped
    };
    println!("{first}");
}
