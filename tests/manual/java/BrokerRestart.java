import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Not in run.sh's default list: restart the broker (same store) while this runs, about 8 s in (it prints RESTART NOW).
 * A producer sends every 50 ms for 25 s, a push consumer consumes; after the restart both carry on by themselves,
 * every acknowledged message is consumed, and redeliveries stay few (offsets survived).
 */
public class BrokerRestart {
  public static void main(String[] args) throws Exception {
    Common.begin("BrokerRestart", 120);
    String topic = Common.unique("JRestart");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    Set<String> acked = ConcurrentHashMap.newKeySet();
    Set<String> got = ConcurrentHashMap.newKeySet();
    AtomicInteger deliveries = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JRestartC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        got.add(m.getKeys());
        deliveries.incrementAndGet();
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    DefaultMQProducer producer = Common.producer(Common.unique("JRestartP"));
    long start = System.currentTimeMillis();
    boolean announced = false;
    for (int i = 0; System.currentTimeMillis() - start < 25_000; i++) {
      if (!announced && System.currentTimeMillis() - start > 8_000) {
        System.out.println("RESTART NOW");
        System.out.flush();
        announced = true;
      }
      try {
        SendResult r = producer.send(new Message(topic, "R", "r" + i, ("r" + i).getBytes(StandardCharsets.UTF_8)));
        if (r.getSendStatus() == SendStatus.SEND_OK) acked.add("r" + i);
      } catch (Exception e) {
        failures.incrementAndGet();
      }
      Thread.sleep(50);
    }
    Common.waitUntil(() -> got.containsAll(acked), 40_000, "all " + acked.size() + " acknowledged messages consumed");
    int dup = deliveries.get() - got.size();
    Common.check(dup <= 200, "redeliveries " + dup);
    Common.pass(acked.size() + " acked (" + failures.get() + " failed sends) all consumed, " + dup + " redelivered");
  }
}
