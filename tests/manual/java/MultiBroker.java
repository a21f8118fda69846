import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.body.ClusterInfo;
import org.apache.rocketmq.common.protocol.route.BrokerData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Needs a NameServer with two or more master brokers (not in run.sh's default list). A topic on every broker: the
 * route merges their queues, producers spread over all of them, three consumers split the 4 x brokers queues
 * averagely across brokers, retries flow on each broker, and queries by key find messages wherever they are.
 */
public class MultiBroker {
  public static void main(String[] args) throws Exception {
    Common.begin("MultiBroker", 120);
    String topic = Common.unique("JMulti");
    String group = Common.unique("JMultiC");
    DefaultMQAdminExt admin = Common.admin();
    ClusterInfo info = admin.examineBrokerClusterInfo();
    List<String> masters = new ArrayList<>();
    for (BrokerData data : info.getBrokerAddrTable().values()) masters.add(data.getBrokerAddrs().get(0L));
    Common.check(masters.size() >= 2, "needs 2+ brokers, found " + masters);
    for (String addr : masters) admin.createAndUpdateTopicConfig(addr, new TopicConfig(topic, 4, 4, 6));
    Common.waitUntil(() -> {
      try {
        return admin.examineTopicRouteInfo(topic).getQueueDatas().size() == masters.size();
      } catch (Exception e) {
        return false;
      }
    }, 20_000, "merged route");
    TopicRouteData route = admin.examineTopicRouteInfo(topic);
    Common.note("route " + route.getQueueDatas() + " " + route.getBrokerDatas());
    int queues = 4 * masters.size();
    Map<String, Integer> got = new ConcurrentHashMap<>();
    Map<String, Integer> retried = new ConcurrentHashMap<>();
    List<DefaultMQPushConsumer> members = new ArrayList<>();
    for (String name : new String[] {"m1", "m2", "m3"}) {
      DefaultMQPushConsumer c = Common.pushConsumer(group, name);
      c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
      c.subscribe(topic, "*");
      c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
        for (MessageExt m : msgs) {
          got.merge(m.getKeys(), 1, Integer::sum);
          if (m.getKeys().endsWith("-retry") && m.getReconsumeTimes() == 0) {
            ctx.setDelayLevelWhenNextConsume(1);
            return ConsumeConcurrentlyStatus.RECONSUME_LATER;
          }
          if (m.getReconsumeTimes() > 0) retried.put(m.getKeys(), m.getReconsumeTimes());
        }
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      });
      c.start();
      members.add(c);
    }
    int[] expect = queues == 8 ? new int[] {3, 3, 2} : null;
    Common.waitUntil(() -> {
      Set<MessageQueue> union = new TreeSet<>();
      List<Integer> counts = new ArrayList<>();
      for (DefaultMQPushConsumer c : members) {
        int n = 0;
        for (MessageQueue mq : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet()) {
          if (mq.getTopic().equals(topic)) {
            union.add(mq);
            n++;
          }
        }
        counts.add(n);
      }
      return union.size() == queues && (expect == null || counts.equals(List.of(expect[0], expect[1], expect[2])));
    }, 20_000, "3 members split " + queues + " queues");
    DefaultMQProducer producer = Common.producer(Common.unique("JMultiP"));
    Set<String> brokersUsed = new TreeSet<>();
    for (int i = 0; i < 40; i++) {
      String key = "k" + i + (i % 10 == 0 ? "-retry" : "");
      SendResult r = producer.send(new Message(topic, "M", key, key.getBytes(StandardCharsets.UTF_8)));
      brokersUsed.add(r.getMessageQueue().getBrokerName());
    }
    Common.check(brokersUsed.size() == masters.size(), "producer used brokers " + brokersUsed);
    // A new member rebalances on the first broker's NOTIFY before it has heartbeated the others, so its first route
    // of %RETRY%group may lack their retry queues until its next route poll (30 s): the same with RocketMQ 4.9.7.
    long sentAt = System.currentTimeMillis();
    long deadline = sentAt + 45_000;
    while (!(got.size() == 40 && retried.size() == 4) && System.currentTimeMillis() < deadline) Thread.sleep(100);
    Common.check(got.size() == 40 && retried.size() == 4, "40 consumed, 4 retried: got " + got.size() + " retried " + retried);
    QueryResult q = admin.queryMessage(topic, "k7", 32, 0, Long.MAX_VALUE);
    Common.check(q.getMessageList().size() == 1, "query by key across brokers " + q.getMessageList().size());
    Common.pass(queues + " queues on " + masters.size() + " brokers, 40 consumed, 4 retried within "
        + (System.currentTimeMillis() - sentAt) / 1000 + " s");
  }
}
