// What a tokio user sees: a task spawned on the multi-threaded runtime must be `Send`, and a
// `Ref` held across an `.await` makes its future `!Send`, so the task parked while it holds a
// shard lock (DashMap's most reported deadlock) does not compile. Use `get_cloned` instead.
use sharded_map::ShardedMap;
use std::sync::Arc;

#[tokio::main]
async fn main() {
    let map: Arc<ShardedMap<u32, u32>> = Arc::new(ShardedMap::new());
    map.insert(1, 1);
    let task_map = Arc::clone(&map);
    tokio::spawn(async move {
        let value = task_map.get(&1).unwrap();
        tokio::task::yield_now().await;
        println!("{}", *value);
    })
    .await
    .unwrap();
}
