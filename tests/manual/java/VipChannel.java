import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * vipChannelEnabled=true clients: sends, batch sends, send-back, offset commits and queries go to listenPort - 2,
 * pulls and heartbeats stay on the main port. Everything works as without it.
 */
public class VipChannel {
  public static void main(String[] args) throws Exception {
    Common.begin("VipChannel", 60);
    String topic = Common.unique("JVip");
    String group = Common.unique("JVipC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = new DefaultMQProducer(Common.unique("JVipP"));
    producer.setNamesrvAddr(Common.ns());
    producer.setInstanceName(Common.unique("vp"));
    producer.setVipChannelEnabled(true);
    producer.start();
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(group, Common.unique("vc"));
    consumer.setVipChannelEnabled(true);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        seen.merge(m.getKeys(), 1, Integer::sum);
        if (m.getKeys().equals("v3") && m.getReconsumeTimes() == 0) {
          ctx.setDelayLevelWhenNextConsume(1);
          return ConsumeConcurrentlyStatus.RECONSUME_LATER;
        }
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    for (int i = 0; i < 10; i++) {
      SendResult r = producer.send(new Message(topic, "V", "v" + i, ("vip-" + i).getBytes(StandardCharsets.UTF_8)));
      Common.check(r.getSendStatus() == SendStatus.SEND_OK, "send " + r);
    }
    SendResult batch = producer.send(List.of(new Message(topic, "V", "vb0", "b".getBytes()),
        new Message(topic, "V", "vb1", "b".getBytes())));
    Common.check(batch.getSendStatus() == SendStatus.SEND_OK, "batch " + batch);
    Common.waitUntil(() -> seen.size() == 12 && seen.getOrDefault("v3", 0) == 2, 20_000, "12 messages and v3 retried: " + seen);
    // Offsets: the consumer persists them (oneway UPDATE_CONSUMER_OFFSET on the VIP port) every 5 s from 10 s
    // after start, and at shutdown; a VIP pull consumer of the group reads them back.
    Common.note("consumed " + seen);
    consumer.shutdown();
    Common.note("consumer shut down");
    Thread.sleep(500);
    DefaultMQPullConsumer reader = new DefaultMQPullConsumer(group);
    reader.setNamesrvAddr(Common.ns());
    reader.setInstanceName(Common.unique("vr"));
    reader.setVipChannelEnabled(true);
    reader.start();
    Common.note("reader started");
    long total = 0;
    for (MessageQueue mq : reader.fetchSubscribeMessageQueues(topic)) {
      Common.note("fetch offset of " + mq);
      total += reader.fetchConsumeOffset(mq, true);
    }
    Common.note("offsets " + total);
    Common.check(total == 12, "committed offsets " + total);
    QueryResult q = null;
    long deadline = System.currentTimeMillis() + 10_000;
    while (q == null && System.currentTimeMillis() < deadline) {
      try {
        q = producer.queryMessage(topic, "v7", 10, 0, Long.MAX_VALUE);
      } catch (Exception e) {
        Thread.sleep(300);
      }
    }
    Common.note("queried " + q);
    Common.check(q != null && q.getMessageList().size() == 1, "query by key over VIP " + q);
    MessageExt viewed = producer.viewMessage(((org.apache.rocketmq.common.message.MessageClientExt) q.getMessageList().get(0)).getOffsetMsgId());
    Common.check("v7".equals(viewed.getKeys()), "view " + viewed);
    Common.pass("send/batch/send-back/offsets/query over VIP");
  }
}
