import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.trace.TraceContext;
import org.apache.rocketmq.client.trace.TraceDataEncoder;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * enableMsgTrace on producer and consumer: trace records go to RMQ_SYS_TRACE_TOPIC keyed by the traced msgId, so
 * QUERY_MESSAGE on the trace topic by msgId finds the Pub, SubBefore and SubAfter records (what mqadmin
 * queryMsgTraceById and the dashboard do).
 */
public class MessageTrace {
  public static void main(String[] args) throws Exception {
    Common.begin("MessageTrace", 60);
    String topic = Common.unique("JTrace");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    String group = Common.unique("JTraceC");
    Set<String> got = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group, true);
    consumer.setNamesrvAddr(Common.ns());
    consumer.setInstanceName(Common.unique("tc"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.add(m.getMsgId());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    String producerGroup = Common.unique("JTraceP");
    DefaultMQProducer producer = new DefaultMQProducer(producerGroup, true);
    producer.setNamesrvAddr(Common.ns());
    producer.setInstanceName(Common.unique("tp"));
    producer.start();
    SendResult sent = producer.send(new Message(topic, "TagT", "trace-key", "traced".getBytes(StandardCharsets.UTF_8)));
    String msgId = sent.getMsgId();
    Common.waitUntil(() -> got.contains(msgId), 20_000, "the traced message consumed");
    Set<String> types = new HashSet<>();
    long deadline = System.currentTimeMillis() + 30_000;
    List<MessageExt> records = null;
    while (System.currentTimeMillis() < deadline) {
      try {
        QueryResult r = admin.queryMessage("RMQ_SYS_TRACE_TOPIC", msgId, 32, 0, Long.MAX_VALUE);
        records = r.getMessageList();
        types.clear();
        for (MessageExt m : records) {
          for (TraceContext ctx : TraceDataEncoder.decoderFromTraceDataString(new String(m.getBody(), StandardCharsets.UTF_8))) {
            String id = ctx.getTraceBeans().isEmpty() ? "" : ctx.getTraceBeans().get(0).getMsgId();
            if (msgId.equals(id)) types.add(ctx.getTraceType().name());
          }
        }
        if (types.containsAll(Set.of("Pub", "SubBefore", "SubAfter"))) break;
      } catch (Exception e) {
        Common.note("query: " + e.getMessage());
      }
      Thread.sleep(500);
    }
    Common.check(types.containsAll(Set.of("Pub", "SubBefore", "SubAfter")), "trace types found " + types);
    MessageExt first = records.get(0);
    Common.check(first.getTopic().equals("RMQ_SYS_TRACE_TOPIC"), "trace topic " + first.getTopic());
    Common.note("trace keys " + first.getKeys());
    Common.pass("trace records " + types + " in " + records.size() + " message(s)");
  }
}
