//! Any bytes taken from a run queue by `tradegraph worker`: a cycle job of the queue's
//! instrument, or an error naming the job, never a panic. A job read back is written and read
//! again the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradegraph::workers::CycleJob;
use tradegraph_core::Symbol;
use tradegraph_store::queue::{Job, JobId};

fuzz_target!(|data: &[u8]| {
    let job = Job {
        id: JobId::new("1-0"),
        instrument: Symbol::new("BTCUSDT"),
        payload: data.to_vec(),
        deliveries: 1,
    };
    match CycleJob::decode(&job) {
        Ok(read) => {
            assert_eq!(read.symbol, job.instrument);
            let again = Job {
                payload: read.encode().unwrap(),
                ..job
            };
            assert_eq!(CycleJob::decode(&again).unwrap(), read);
        }
        Err(e) => assert!(e.to_string().starts_with("job 1-0 of BTCUSDT cannot be read: ")),
    }
});
