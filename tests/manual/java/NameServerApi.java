import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.common.protocol.body.TopicList;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * NameServer calls of DefaultMQAdminExt (routes, topic lists, cluster info, KV config, order conf, namesrv config,
 * topic deletion in the NameServer): one normalized RESULT line each, for diffing two runs. Only touches names
 * unique to the run, so it is safe on a shared NameServer.
 */
public class NameServerApi {
  static String run;
  static final List<String> out = new ArrayList<>();

  interface Case {
    Object run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Common.begin("NameServerApi", 60);
    run = Common.unique("N");
    String topic = run + "_T";
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 3);
    String ns = Common.ns();
    report("route of topic", () -> {
      TopicRouteData r = admin.examineTopicRouteInfo(topic);
      return r.getQueueDatas() + " brokers=" + r.getBrokerDatas().size() + " orderConf=" + r.getOrderTopicConf()
          + " filter=" + r.getFilterServerTable();
    });
    report("route of unknown", () -> admin.examineTopicRouteInfo(run + "_Nope"));
    report("route of TBW102 perm", () -> admin.examineTopicRouteInfo("TBW102").getQueueDatas().get(0).getPerm());
    report("all topics has topic", () -> {
      TopicList l = admin.fetchAllTopicList();
      return l.getTopicList().contains(topic) + " brokerAddr=" + l.getBrokerAddr();
    });
    report("topics by cluster has topic", () -> admin.fetchTopicsByCLuster("DefaultCluster").getTopicList().contains(topic));
    report("topics by unknown cluster", () -> admin.fetchTopicsByCLuster(run).getTopicList().size());
    report("cluster of topic", () -> admin.getTopicClusterList(topic));
    report("cluster info", () -> {
      var info = admin.examineBrokerClusterInfo();
      return new TreeMap<>(info.getClusterAddrTable()) + " brokers=" + info.getBrokerAddrTable().keySet();
    });
    report("kv get missing", () -> admin.getKVConfig(run, "k"));
    report("kv put+get", () -> {
      admin.createAndUpdateKvConfig(run, "k", "v1");
      admin.createAndUpdateKvConfig(run, "k2", "v2");
      return admin.getKVConfig(run, "k");
    });
    report("kv list", () -> new TreeMap<>(admin.getKVListByNamespace(run).getTable()));
    report("kv delete+get", () -> {
      admin.deleteKvConfig(run, "k");
      return admin.getKVConfig(run, "k");
    });
    report("kv list unknown namespace", () -> admin.getKVListByNamespace(run + "_none").getTable());
    report("order conf", () -> {
      admin.createOrUpdateOrderConf(topic, "broker-a:3", false);
      return admin.examineTopicRouteInfo(topic).getOrderTopicConf();
    });
    report("namesrv config keys", () -> {
      Map<String, java.util.Properties> cfg = admin.getNameServerConfig(List.of(ns));
      java.util.Properties p = cfg.values().iterator().next();
      TreeSet<String> keys = new TreeSet<>();
      for (String k : new String[] {"listenPort", "orderMessageEnable", "kvConfigPath", "rocketmqHome",
          "serverWorkerThreads", "clusterTest"}) {
        if (p.containsKey(k)) keys.add(k);
      }
      return keys + " orderMessageEnable=" + p.getProperty("orderMessageEnable");
    });
    report("delete topic in namesrv", () -> {
      admin.deleteTopicInNameServer(java.util.Set.of(ns), topic, null);
      return admin.examineTopicRouteInfo(topic);
    });
    for (String line : out) System.out.println("RESULT " + line);
    Common.pass(out.size() + " cases");
  }

  static void report(String name, Case c) {
    String result;
    try {
      result = String.valueOf(c.run());
    } catch (MQBrokerException e) {
      result = "MQBrokerException code=" + e.getResponseCode() + " " + e.getErrorMessage();
    } catch (MQClientException e) {
      result = "MQClientException code=" + e.getResponseCode() + " " + e.getErrorMessage();
    } catch (Throwable e) {
      result = e.getClass().getSimpleName() + " " + e.getMessage();
    }
    result = result.replace(run, "RUN").replaceAll("\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+", "ADDR").replaceAll("\\s+", " ");
    if (result.length() > 400) result = result.substring(0, 400) + "...";
    out.add(name + ": " + result);
  }
}
