// Stage 7's pure parts: -p's syntax, the address allocator and its leases,
// the DNAT element of one port, a hosts file.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "box/error.hpp"
#include "harness.hpp"
#include "stage4.hpp"
#include "stage7.hpp"

using namespace box;
using namespace box::stage7;
using boxtest::Sandbox;

TEST_CASE("-p's forms parse as docker's (ports, ranges, host address, protocol) and become one DNAT element each",
          "[stage7][unit]") {
    auto one = parse_publish("8080:80");
    REQUIRE(one.size() == 1);
    CHECK(one[0].host_port == 8080);
    CHECK(one[0].container_port == 80);
    CHECK(one[0].protocol == "tcp");
    CHECK(one[0].host_ip.empty());
    auto bound = parse_publish("127.0.0.1::53/udp");
    CHECK(bound[0].host_ip == "127.0.0.1");
    CHECK(bound[0].host_port == 0);
    CHECK(bound[0].protocol == "udp");
    auto range = parse_publish("8000-8002:80-82");
    REQUIRE(range.size() == 3);
    CHECK(range[2].host_port == 8002);
    CHECK(range[2].container_port == 82);
    CHECK(parse_publish("5000")[0].host_port == 0);
    for (const char* bad : {"", "x", "0", "65536", "80:70000", "1.2.3:1:2", "8000-8001:80", "80/icmp", "a:b:c:d"})
        CHECK_THROWS_AS(parse_publish(bad), Error);
    CHECK(mapping_text(one[0]) == "0.0.0.0:8080->80/tcp");
    Ip4 ip = *parse_ip("10.87.0.9");
    bound[0].host_port = 32768;
    CHECK(publish_command(range[1], ip, true) == "add element ip box publish { tcp . 8001 : 10.87.0.9 . 81 }\n");
    CHECK(publish_command(bound[0], ip, true) == "add element ip box publish_ip { 127.0.0.1 . udp . 32768 : 10.87.0.9 . 53 }\n");
}

TEST_CASE("first_free() skips the network address, the gateway, the broadcast and what is taken", "[stage7][unit]") {
    Subnet s = Subnet::parse("10.1.2.0/29");  // .0 network, .7 broadcast
    Ip4 base = s.base;
    CHECK(first_free(s, base + 1, {}) == base + 2);
    CHECK(first_free(s, base + 5, {}) == base + 1);
    CHECK(first_free(s, base + 1, {base + 2, base + 3}) == base + 4);
    CHECK(!first_free(s, base + 1, {base + 2, base + 3, base + 4, base + 5, base + 6}));
    CHECK_THROWS_AS(Subnet::parse("10.1.2.1/24"), Error);
    CHECK_THROWS_AS(Subnet::parse("10.1.2.0"), Error);
    CHECK(Subnet::parse("10.1.0.0/16").overlaps(Subnet::parse("10.1.200.0/24")));
}

TEST_CASE("1000 leases taken and released never give one address twice", "[stage7][unit]") {
    Sandbox sb;
    Leases leases(sb.dir() + "/endpoints");
    Subnet s = Subnet::parse("10.50.0.0/24");
    std::map<Ip4, std::string> held;
    srand(7);
    for (int i = 0; i < 1000; ++i) {
        if (!held.empty() && (rand() % 3 == 0 || held.size() > 200)) {
            auto it = std::next(held.begin(), rand() % static_cast<long>(held.size()));
            Endpoint e;
            e.ip = it->first;
            e.container = it->second;
            leases.release(e);
            held.erase(it);
            continue;
        }
        Endpoint e;
        e.container = "c" + std::to_string(i);
        e.holder = getpid();
        e.holder_start = box::stage4::process_start_time(getpid());
        Endpoint got = leases.take(e, s, s.base + 1);
        REQUIRE(s.contains(got.ip));
        REQUIRE(got.ip != s.base + 1);
        REQUIRE(held.count(got.ip) == 0);
        held[got.ip] = e.container;
    }
    CHECK(leases.list().size() == held.size());
}

TEST_CASE("a lease whose holder has died is taken back by the next", "[stage7][unit]") {
    Sandbox sb;
    Leases leases(sb.dir() + "/endpoints");
    Subnet s = Subnet::parse("10.51.0.0/24");
    pid_t child = fork();
    if (child == 0) _exit(0);
    long long start = box::stage4::process_start_time(child);
    waitpid(child, nullptr, 0);
    Endpoint dead;
    dead.container = "gone";
    dead.holder = child;
    dead.holder_start = start;
    Ip4 first = leases.take(dead, s, s.base + 1).ip;
    CHECK(leases.list().empty());
    CHECK(leases.list(true).size() == 1);
    Endpoint alive;
    alive.container = "new";
    alive.holder = getpid();
    alive.holder_start = box::stage4::process_start_time(getpid());
    CHECK(leases.take(alive, s, s.base + 1).ip == first);
    CHECK(leases.list().size() == 1);
}

TEST_CASE("publish_command() adds and deletes one DNAT element of the right map", "[stage7][unit]") {
    Ip4 ip = *parse_ip("10.87.0.2");
    PortMapping any{"", 8080, 80, "tcp"};
    PortMapping local{"127.0.0.1", 5353, 53, "udp"};
    CHECK(publish_command(any, ip, true) == "add element ip box publish { tcp . 8080 : 10.87.0.2 . 80 }\n");
    CHECK(publish_command(any, ip, false) == "delete element ip box publish { tcp . 8080 }\n");
    CHECK(publish_command(local, ip, true) ==
          "add element ip box publish_ip { 127.0.0.1 . udp . 5353 : 10.87.0.2 . 53 }\n");
}

TEST_CASE("hosts_file() names the container, its peers, links and --add-host, at the addresses they were given",
          "[stage7][unit]") {
    Sandbox sb;
    Leases leases(sb.dir() + "/endpoints");
    Subnet s = Subnet::parse("10.86.0.0/24");
    Endpoint self, peer;
    for (Endpoint* e : {&peer, &self}) {  // the peer first: it gets .2, the container .3
        e->container = e == &self ? "aaa" : "bbb";
        e->holder = getpid();
        e->holder_start = box::stage4::process_start_time(getpid());
        e->ip = leases.take(*e, s, s.base + 1).ip;
    }
    REQUIRE(ip_text(self.ip) == "10.86.0.3");
    self.name = "web";
    self.hostname = "abc123";
    self.aliases = {"www"};
    self.extra_hosts = {"db.test:192.0.2.7"};
    peer.name = "db";
    peer.hostname = "def456";
    peer.aliases = {"database"};
    std::string named = hosts_file(self, {self, peer}, true);
    CHECK(named.find("127.0.0.1\tlocalhost\n") == 0);
    CHECK(named.find("192.0.2.7\tdb.test\n") != std::string::npos);
    CHECK(named.find("10.86.0.3\tabc123 web www\n") != std::string::npos);
    CHECK(named.find("10.86.0.2\tdb database def456\n") != std::string::npos);
    std::string unnamed = hosts_file(self, {self, peer}, false);
    CHECK(unnamed.find("10.86.0.2") == std::string::npos);
    self.links = {"db:mydb"};
    CHECK(hosts_file(self, {self, peer}, false).find("10.86.0.2\tmydb def456 db\n") != std::string::npos);
    self.links = {"nosuch"};
    CHECK_THROWS_AS(hosts_file(self, {self, peer}, false), Error);
}
