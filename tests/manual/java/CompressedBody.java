import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.sysflag.MessageSysFlag;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** Bodies over 4 KiB are compressed by the client (sysFlag bit 0) and arrive intact at consumers and in viewMessage. */
public class CompressedBody {
  public static void main(String[] args) throws Exception {
    Common.begin("CompressedBody", 60);
    String topic = Common.unique("JZip");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = Common.producer(Common.unique("JZipP"));
    Random random = new Random(7);
    byte[] text = new byte[64 * 1024];
    for (int i = 0; i < text.length; i++) text[i] = (byte) ('a' + (i % 26));
    byte[] noise = new byte[300 * 1024];
    random.nextBytes(noise);
    byte[] small = "tiny".getBytes();
    Map<String, byte[]> bodies = Map.of("text", text, "noise", noise, "small", small);
    Map<String, String> ids = new ConcurrentHashMap<>();
    for (Map.Entry<String, byte[]> e : bodies.entrySet()) {
      SendResult r = producer.send(new Message(topic, "Z", e.getKey(), e.getValue()));
      ids.put(e.getKey(), r.getOffsetMsgId());
    }
    Map<String, MessageExt> got = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JZipC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.put(m.getKeys(), m);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    Common.waitUntil(() -> got.size() == bodies.size(), 30_000, "3 messages");
    for (Map.Entry<String, byte[]> e : bodies.entrySet()) {
      MessageExt m = got.get(e.getKey());
      Common.check(Arrays.equals(m.getBody(), e.getValue()), "consumed body of " + e.getKey() + " differs, "
          + m.getBody().length + " bytes");
      boolean compressed = (m.getSysFlag() & MessageSysFlag.COMPRESSED_FLAG) != 0;
      Common.check(compressed == (e.getValue().length > 4096), e.getKey() + " sysFlag " + m.getSysFlag());
      MessageExt viewed = admin.viewMessage(ids.get(e.getKey()));
      Common.check(Arrays.equals(viewed.getBody(), e.getValue()), "viewMessage body of " + e.getKey());
      Common.note(e.getKey() + " sysFlag " + m.getSysFlag() + " storeSize " + m.getStoreSize());
    }
    Common.pass("text/noise/small intact");
  }
}
