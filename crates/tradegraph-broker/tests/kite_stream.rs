//! The Kite broker's order updates: the WebSocket dropped, fills still arriving by polling,
//! exactly once, and the reconnection counted.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use kite_support::{bank, d, id, start, wait_until, Logs};
use tradegraph_broker::Broker;
use tradegraph_core::order::{OrderRequest, OrderSide};

#[tokio::test]
async fn fills_arrive_by_polling_while_the_socket_is_down_exactly_once() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let resting = id("tg00000000000000d1");
    broker
        .submit(OrderRequest::limit(
            resting.clone(),
            bank(),
            OrderSide::Buy,
            d("60"),
            d("48100"),
        ))
        .await
        .unwrap();
    venue.refuse_streams(true);
    venue.drop_streams();
    wait_until("the broker sees the socket down", || async {
        !broker.is_streaming()
    })
    .await;
    let streamed = venue.events().len();
    venue.fill_partially(d("30"));
    venue.set_price(d("48100"));
    venue.set_price(d("48000"));
    wait_until("both fills arrive by polling", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    assert_eq!(broker.reconnections(), 0);
    venue.refuse_streams(false);
    wait_until("the socket is back", || async {
        broker.is_streaming() && venue.subscribers() == 1
    })
    .await;
    // Counted once the catch-up poll after the reconnection is done.
    wait_until("the reconnection is counted", || async {
        broker.reconnections() == 1
    })
    .await;
    // The stream works again, and nothing was booked twice.
    broker
        .submit(OrderRequest::market(
            id("tg00000000000000d2"),
            bank(),
            OrderSide::Sell,
            d("60"),
        ))
        .await
        .unwrap();
    wait_until("the sell fills", || async {
        broker.fills_since(0).await.unwrap().len() == 3
    })
    .await;
    assert!(venue.events().len() > streamed);
    let fills = broker.fills_since(0).await.unwrap();
    let seqs: Vec<u64> = fills.iter().map(|f| f.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(fills[0].client_id, resting);
    assert_eq!(
        fills
            .iter()
            .filter(|f| f.client_id == resting)
            .map(|f| f.quantity)
            .sum::<tradegraph_core::Decimal>(),
        d("60")
    );
    logs.assert_clean();
}
