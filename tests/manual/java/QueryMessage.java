import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Queries: by key (each of a message's keys, with maxNum and a time range), by unique key (the client msgId), and by
 * offset msgId (VIEW_MESSAGE_BY_ID), through the producer's MQAdmin API and DefaultMQAdminExt; a key that matches
 * nothing is an MQClientException.
 */
public class QueryMessage {
  public static void main(String[] args) throws Exception {
    Common.begin("QueryMessage", 60);
    String topic = Common.unique("JQuery");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    DefaultMQProducer producer = Common.producer(Common.unique("JQueryP"));
    long begin = System.currentTimeMillis() - 1000;
    Message m = new Message(topic, "Q", "body".getBytes(StandardCharsets.UTF_8));
    m.setKeys(Arrays.asList("order-77", "user-9"));
    SendResult sent = producer.send(m);
    for (int i = 0; i < 5; i++) producer.send(new Message(topic, "Q", "same-key", ("same-" + i).getBytes()));
    long end = System.currentTimeMillis() + 1000;
    QueryResult byKey = retryQuery(() -> producer.queryMessage(topic, "user-9", 32, begin, end));
    Common.check(byKey.getMessageList().size() == 1, "by key user-9: " + byKey.getMessageList().size());
    MessageExt found = byKey.getMessageList().get(0);
    Common.check(found.getMsgId().equals(sent.getMsgId()), "msgId " + found.getMsgId());
    Common.check(found.getKeys().equals("order-77 user-9"), "keys " + found.getKeys());
    Common.check(byKey.getIndexLastUpdateTimestamp() > 0, "indexLastUpdateTimestamp " + byKey.getIndexLastUpdateTimestamp());
    QueryResult same = retryQuery(() -> admin.queryMessage(topic, "same-key", 3, begin, end));
    Common.check(same.getMessageList().size() == 3, "maxNum 3 of 5: " + same.getMessageList().size());
    QueryResult all = retryQuery(() -> admin.queryMessage(topic, "same-key", 32, begin, end));
    Common.check(all.getMessageList().size() == 5, "maxNum 32 of 5: " + all.getMessageList().size());
    boolean noneOutside;
    try {
      noneOutside = admin.queryMessage(topic, "same-key", 32, end + 60_000, end + 120_000).getMessageList().isEmpty();
    } catch (MQClientException e) {
      noneOutside = true;
    }
    Common.check(noneOutside, "time range outside matched");
    QueryResult byUniq = admin.queryMessageByUniqKey(topic, sent.getMsgId(), 32, begin, end);
    Common.check(byUniq.getMessageList().size() == 1 && byUniq.getMessageList().get(0).getMsgId().equals(sent.getMsgId()),
        "by uniq key " + byUniq);
    MessageExt viewed = admin.viewMessage(topic, sent.getMsgId());
    Common.check(viewed.getKeys().equals("order-77 user-9"), "viewMessage(topic, uniq id) " + viewed);
    MessageExt byOffset = admin.viewMessage(sent.getOffsetMsgId());
    Common.check(byOffset.getMsgId().equals(sent.getMsgId()) && byOffset.getTopic().equals(topic), "by offset id " + byOffset);
    Common.check(byOffset.getCommitLogOffset() >= 0 && byOffset.getStoreSize() > 0, "stored fields " + byOffset);
    MessageExt viaProducer = producer.viewMessage(sent.getOffsetMsgId());
    Common.check(viaProducer.getMsgId().equals(sent.getMsgId()), "producer.viewMessage");
    try {
      QueryResult nothing = admin.queryMessage(topic, "no-such-key", 32, begin, end);
      Common.fail("no-such-key returned " + nothing.getMessageList().size());
    } catch (MQClientException e) {
      Common.note("no match: " + e.getErrorMessage());
    }
    Common.pass("key/uniq/offset id");
  }

  interface Query {
    QueryResult run() throws Exception;
  }

  static QueryResult retryQuery(Query q) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (true) {
      try {
        return q.run();
      } catch (MQClientException e) {
        if (System.currentTimeMillis() > deadline) throw e;
        Thread.sleep(200);
      }
    }
  }
}
