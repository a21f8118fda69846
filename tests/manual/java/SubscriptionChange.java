import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * A running consumer changes its tag subscription (subscribe again with a newer subVersion, heartbeat at once): it
 * gets no more old-tag messages, and new-tag ones (those on a queue whose pull is held under the old filter only
 * when the hold ends). A postSubscriptionWhenPull consumer sends its expression with every pull.
 */
public class SubscriptionChange {
  public static void main(String[] args) throws Exception {
    Common.begin("SubscriptionChange", 90);
    String topic = Common.unique("JSubCh");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = Common.producer(Common.unique("JSubChP"));
    Set<String> got = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer c = Common.pushConsumer(Common.unique("JSubChC"), Common.unique("c"));
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.subscribe(topic, "A");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.add(m.getKeys());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    producer.send(new Message(topic, "A", "a1", "x".getBytes()));
    producer.send(new Message(topic, "B", "b1", "x".getBytes()));
    Common.waitUntil(() -> got.contains("a1"), 15_000, "a1");
    Thread.sleep(1000);
    Common.check(!got.contains("b1"), "b1 under subscription A");
    c.subscribe(topic, "B");
    c.getDefaultMQPushConsumerImpl().getmQClientFactory().sendHeartbeatToAllBrokerWithLock();
    Thread.sleep(500);
    producer.send(new Message(topic, "A", "a2", "x".getBytes()));
    producer.send(new Message(topic, "B", "b2", "x".getBytes()));
    // Pulls issued before the switch are held under the old filter; a B message that ends such a hold is filtered
    // out by the client (it checks against the subscription the pull was issued with), in RocketMQ too. Once those
    // holds are over (15 s), new B messages arrive.
    Thread.sleep(21_000);
    producer.send(new Message(topic, "A", "a3", "x".getBytes()));
    producer.send(new Message(topic, "B", "b3", "x".getBytes()));
    Common.waitUntil(() -> got.contains("b3"), 15_000, "b3 after switching to B: " + got);
    Thread.sleep(1000);
    Common.check(!got.contains("a2") && !got.contains("a3"), "A messages after switching to B: " + got);
    Common.note("b2 delivered: " + got.contains("b2"));

    Set<String> posted = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer p = Common.pushConsumer(Common.unique("JSubChPost"), Common.unique("p"));
    p.setPostSubscriptionWhenPull(true);
    p.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    p.subscribe(topic, "B");
    p.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) posted.add(m.getKeys());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    p.start();
    Common.waitUntil(() -> posted.size() >= 3, 15_000, "postSubscriptionWhenPull gets b1, b2, b3: " + posted);
    Thread.sleep(1000);
    Common.check(posted.equals(Set.of("b1", "b2", "b3")), "postSubscriptionWhenPull got " + posted);
    Common.pass("switched A -> B (b2 " + (got.contains("b2") ? "delivered" : "lost to the old hold") + "); posted subscription filtered");
  }
}
