import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.UtilAll;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Where a new group starts: FIRST, LAST and TIMESTAMP on a young topic that already holds 10 messages. RocketMQ
 * 4.9.7 answers QUERY_CONSUMER_OFFSET with 0 for a new group while the queue's first message is still in memory,
 * so all three start at 0. A group that committed offsets resumes from them, whatever its setting.
 */
public class ConsumeFromWhereStart {
  public static void main(String[] args) throws Exception {
    Common.begin("ConsumeFromWhereStart", 90);
    String topic = Common.unique("JWhere");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = Common.producer(Common.unique("JWhereP"));
    for (int i = 0; i < 10; i++) producer.send(new Message(topic, "W", "w" + i, ("w" + i).getBytes(StandardCharsets.UTF_8)));
    StringBuilder detail = new StringBuilder();
    for (ConsumeFromWhere where : new ConsumeFromWhere[] {ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
        ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET, ConsumeFromWhere.CONSUME_FROM_TIMESTAMP}) {
      Set<String> got = ConcurrentHashMap.newKeySet();
      DefaultMQPushConsumer c = Common.pushConsumer(Common.unique("JWhere" + where.ordinal()), Common.unique("c"));
      c.setConsumeFromWhere(where);
      c.setConsumeTimestamp(UtilAll.timeMillisToHumanString3(System.currentTimeMillis()));
      c.subscribe(topic, "*");
      c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
        for (MessageExt m : msgs) got.add(m.getKeys());
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      });
      c.start();
      Thread.sleep(4000);
      detail.append(where.name().replace("CONSUME_FROM_", "")).append('=').append(got.size()).append(' ');
      Common.check(got.size() == 10, where + " consumed " + got.size() + " of the 10 existing messages");
      c.shutdown();
    }
    // Resume: a group commits 5 per queue, then a LAST_OFFSET member of that group starts at the commit.
    String group = Common.unique("JWhereResume");
    DefaultMQPushConsumer first = Common.pushConsumer(group, Common.unique("c"));
    Map<String, Integer> got = new ConcurrentHashMap<>();
    first.subscribe(topic, "*");
    first.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
    first.start();
    Thread.sleep(3000);
    first.shutdown(); // persists offsets (10 consumed)
    for (int i = 10; i < 14; i++) producer.send(new Message(topic, "W", "w" + i, ("w" + i).getBytes(StandardCharsets.UTF_8)));
    DefaultMQPushConsumer second = Common.pushConsumer(group, Common.unique("c"));
    second.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    second.subscribe(topic, "*");
    second.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.merge(m.getKeys(), 1, Integer::sum);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    second.start();
    Thread.sleep(4000);
    Common.check(got.keySet().equals(Set.of("w10", "w11", "w12", "w13")), "resumed group got " + got.keySet());
    detail.append("resume=").append(got.size());
    Common.pass(detail.toString());
  }
}
