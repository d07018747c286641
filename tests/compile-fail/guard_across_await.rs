// A spawned task must be Send; holding a guard across an await makes the future !Send, so the
// classic DashMap deadlock (a task parked while holding a shard lock) cannot be written.
use sharded_map::ShardedMap;
use std::future::Future;

fn spawn<F: Future + Send + 'static>(_f: F) {}

async fn yield_now() {}

fn main() {
    let map: &'static ShardedMap<u32, u32> = Box::leak(Box::new(ShardedMap::new()));
    spawn(async move {
        let guard = map.get_mut(&1);
        yield_now().await;
        drop(guard);
    });
}
