//! Streaming watcher: events per second through `Watcher::apply`, in memory,
//! on a seeded simulation (legitimate population, operators, ban waves and
//! replacements), replayed in time order.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hydra_detect::sim::{SimConfig, Simulator};
use hydra_detect::{Event, WatchConfig, WatchFlag, Watcher};

/// The events of a small seeded simulation, in time order.
fn events(accounts: u64) -> Vec<Event> {
    let config = SimConfig::small().accounts(accounts).operator_sizes(vec![300, 80, 60]).seed(7);
    let sim = Simulator::new(config).expect("valid config").generate().expect("simulation runs");
    sim.events().expect("events").collect::<hydra_detect::Result<Vec<_>>>().expect("valid events")
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("watch/apply");
    group.sample_size(10);
    // One size: a 3,000-account platform (about 100,000 events); the
    // replay example covers the small and medium presets.
    {
        let events = events(3000);
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("in_memory", events.len()),
            &events,
            |b, events| {
                b.iter_batched(
                    || Watcher::new(WatchConfig::new()).expect("default config"),
                    |mut watcher| {
                        let mut flags: Vec<WatchFlag> = Vec::new();
                        for (i, e) in events.iter().enumerate() {
                            watcher.apply_into(i as u64 + 1, e, &mut flags).expect("valid event");
                        }
                        flags.len()
                    },
                    criterion::BatchSize::LargeInput,
                );
            },
        );
    }
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
