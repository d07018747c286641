use sharded_map::ShardedMap;

fn main() {
    let map = ShardedMap::new();
    map.insert(1, String::from("one"));
    let value: &String = {
        let guard = map.get(&1).unwrap();
        guard.value()
    };
    println!("{value}");
}
