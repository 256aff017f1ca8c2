//! A meta-batch shared among processes gives the single process's run, bit for bit.
//!
//! The "processes" here are threads with an in-memory exchange (`Threads` below), so the test
//! runs without MPI; the `distributed` crate puts the same trait over MPI, and CI compares the
//! MPI run's checkpoint with the single process's byte for byte.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use meta::{
    evaluate_tasks, evaluate_tasks_among, registry, sinusoid_eval_tasks, task_seed, Cluster,
    Execution, MetaTrainer, Settings, SingleProcess, Sinusoid, Tasks,
};
use nn::{mlp, Activation, Adam};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

/// One of `size` threads acting as processes: `all_gather` posts this thread's bytes on a
/// shared board, waits for everyone's, and reads them all. `swap` is the default (through
/// `all_gather`), counted.
struct Threads {
    rank: usize,
    size: usize,
    board: Arc<Mutex<Vec<Vec<u8>>>>,
    barrier: Arc<Barrier>,
    swaps: Arc<AtomicUsize>,
}

impl Threads {
    fn cluster(size: usize) -> Vec<Threads> {
        let board = Arc::new(Mutex::new(vec![Vec::new(); size]));
        let barrier = Arc::new(Barrier::new(size));
        (0..size)
            .map(|rank| Threads {
                rank,
                size,
                board: Arc::clone(&board),
                barrier: Arc::clone(&barrier),
                swaps: Arc::new(AtomicUsize::new(0)),
            })
            .collect()
    }
}

impl Cluster for Threads {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_gather(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        self.board.lock().unwrap()[self.rank] = mine.to_vec();
        self.barrier.wait(); // everyone has posted
        let all = self.board.lock().unwrap().clone();
        self.barrier.wait(); // everyone has read: the board may be reused
        all
    }
    fn swap(&self, partner: usize, mine: &[u8]) -> Vec<u8> {
        self.swaps.fetch_add(1, Ordering::Relaxed);
        self.all_gather(mine).swap_remove(partner)
    }
}

fn trainer(name: &str, execution: Execution) -> MetaTrainer {
    MetaTrainer::new(
        Box::new(mlp(&[1, 16, 1], Activation::Relu)),
        registry::build(name, &Settings::default()).unwrap(),
        Box::new(Adam::new(1e-2)),
        execution,
        DType::F32,
        &mut StdRng::seed_from_u64(3),
    )
}

/// The bits of θ, the learned tensors and the optimiser state after `steps` meta-steps of a
/// meta-batch of 10 tasks, shared among `cluster`.
fn train(name: &str, execution: Execution, cluster: &dyn Cluster) -> Vec<Vec<u32>> {
    let family = Sinusoid::maml(5);
    let mut trainer = trainer(name, execution);
    for iteration in 0..4 {
        let tasks = Tasks::Drawn {
            source: &family,
            count: 10,
            seed: task_seed(7, iteration),
        };
        trainer.step_among(tasks, cluster);
    }
    let state = trainer.optimizer.state();
    let learned = trainer.meta.flatten();
    learned
        .tensors()
        .iter()
        .chain(state.tensors().iter())
        .map(|t| t.to_vec::<f32>().iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// Every thread's result of `work(cluster)` for a cluster of `size` threads.
fn on_threads<R: Send>(size: usize, work: impl Fn(&Threads) -> R + Sync) -> Vec<R> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = Threads::cluster(size)
            .into_iter()
            .map(|member| {
                let work = &work;
                scope.spawn(move || work(&member))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn shared_meta_steps_equal_the_single_process_bit_for_bit() {
    // 10 tasks in chunks of 3: chunks of 3, 3, 3 and 1 tasks, shared among 1 to 5 processes
    // (five processes: one of them has no chunk at all). Two and four processes hold whole
    // subtrees of the chunk tree and combine them by recursive doubling (log₂P swaps a step);
    // three and five send their partial sums to everyone.
    for (name, execution) in [
        ("metasgd", Execution::Vectorised { chunk: 3 }),
        ("maml", Execution::PerTask { chunk: 3 }),
        ("reptile", Execution::Vectorised { chunk: 3 }),
    ] {
        let alone = train(name, execution, &SingleProcess);
        for size in [2, 3, 4, 5] {
            let shared = on_threads(size, |cluster| {
                let state = train(name, execution, cluster);
                (state, cluster.swaps.load(Ordering::Relaxed))
            });
            let swaps_per_step = match size {
                2 => 1,
                4 => 2,
                _ => 0,
            };
            for (rank, (state, swaps)) in shared.iter().enumerate() {
                assert!(
                    state == &alone,
                    "{name}, {execution:?}: rank {rank} of {size} differs from one process"
                );
                assert_eq!(
                    *swaps,
                    4 * swaps_per_step,
                    "{name}: swaps of rank {rank} of {size}"
                );
            }
        }
    }
}

#[test]
fn shared_evaluation_equals_the_single_process() {
    let trainer = trainer("metasgd", Execution::Vectorised { chunk: 3 });
    let tasks = sinusoid_eval_tasks(&Sinusoid::maml(5), 7, 1);
    let evaluate = |cluster: &Threads| {
        let (model, learner) = (trainer.model.as_ref(), trainer.learner.as_ref());
        evaluate_tasks_among(cluster, model, learner, &trainer.meta, 1, &tasks)
    };
    let alone = evaluate_tasks(
        trainer.model.as_ref(),
        trainer.learner.as_ref(),
        &trainer.meta,
        1,
        &tasks,
    );
    assert_eq!(alone.len(), 7);
    for shared in on_threads(3, evaluate) {
        assert_eq!(shared, alone);
    }
}
