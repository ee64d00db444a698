#include "compiler/check/values.h"

#include <gtest/gtest.h>

#include <string>

namespace amata::check {
namespace {

TEST(Values, Ports) {
  EXPECT_FALSE(port_problem("1"));
  EXPECT_FALSE(port_problem("65535"));
  // probes/net_checks.cc resolve_endpoint refuses these at load ("no valid port").
  EXPECT_TRUE(port_problem("0"));
  EXPECT_TRUE(port_problem("65536"));
  EXPECT_TRUE(port_problem("99999"));
  EXPECT_TRUE(port_problem("99999999999999999999"));
  EXPECT_TRUE(port_problem(""));
  EXPECT_TRUE(port_problem("80abc"));  // stoi would read 80; nobody means that
  EXPECT_TRUE(port_problem("+80"));
}

TEST(Values, Hosts) {
  for (const char* ok : {"127.0.0.1", "9.9.9.9", "head.cluster.local", "localhost", "::1", "[::1]",
                         "fe80::1%eth0", "db-1.example.com.", "2001:db8::42"}) {
    EXPECT_FALSE(host_problem(ok)) << ok << ": " << *host_problem(ok);
  }
  for (const char* bad : {"", "256.0.0.1", "10.1", "1.2.3.4.5", "-db", "db-", "a..b", "db_1",
                          "caf\xc3\xa9.example", "[::1", "[10.0.0.1]", ":::", "has space"}) {
    EXPECT_TRUE(host_problem(bad)) << bad;
  }
  EXPECT_TRUE(host_problem(std::string(64, 'a') + ".example"));
  EXPECT_TRUE(host_problem(std::string(254, 'a')));
}

TEST(Values, HostAndPort) {
  EXPECT_FALSE(host_port_problem("127.0.0.1:8080"));
  EXPECT_FALSE(host_port_problem("[::1]:80"));
  EXPECT_FALSE(host_port_problem("db.local:5432"));
  EXPECT_EQ(host_port_problem("127.0.0.1:99999"), "port 99999 is not from 1 to 65535");
  EXPECT_TRUE(host_port_problem("127.0.0.1"));
  EXPECT_TRUE(host_port_problem("::1:80"));  // ambiguous: resolve_endpoint finds no port
  EXPECT_TRUE(host_port_problem("/run/x.sock:1"));
  EXPECT_TRUE(host_port_problem(":80"));
}

TEST(Values, HttpUrls) {
  for (const char* ok : {"http://127.0.0.1:8000/healthz", "http://localhost/", "http://[::1]:80/x",
                         "http://web.local", "http://10.0.0.1:8080/a?b=c#d", "https://127.0.0.1/",
                         "https://web.example:8443/healthz"}) {
    EXPECT_FALSE(http_url_problem(ok)) << ok << ": " << *http_url_problem(ok);
  }
  for (const char* bad :
       {"ftp://127.0.0.1/", "HTTP://x/", "http://", "https://", "http:///path", "http://a b/",
        "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://user:pw@host/", "http://[::1/",
        "http://host:/", "http://caf\xc3\xa9/"}) {
    EXPECT_TRUE(http_url_problem(bad)) << bad;
  }
}

TEST(Values, Paths) {
  EXPECT_FALSE(path_problem("/"));
  EXPECT_FALSE(path_problem("/var/log/app.log"));
  EXPECT_TRUE(path_problem(""));
  EXPECT_TRUE(path_problem("relative/path"));
  EXPECT_TRUE(path_problem("/" + std::string(4095, 'a')));
  EXPECT_TRUE(path_problem("/a/" + std::string(256, 'b')));
  EXPECT_FALSE(socket_path_problem("/run/munge/munge.socket.2"));
  EXPECT_TRUE(socket_path_problem("/" + std::string(107, 's')));  // resolve_endpoint: too long
  EXPECT_FALSE(socket_path_problem("/" + std::string(106, 's')));
}

TEST(Values, AccountNamesAsUseraddTakesThem) {
  for (const char* ok : {"root", "www-data", "postgres", "_apt", "systemd-network", "user.name",
                         "Admin", "machine$", "a1"}) {
    EXPECT_FALSE(account_name_problem(ok)) << ok << ": " << *account_name_problem(ok);
  }
  for (const char* bad :
       {"", "-rf", "a b", "a:b", "a/b", "1000", ".", "..", "$", "a$b", "caf\xc3\xa9"}) {
    EXPECT_TRUE(account_name_problem(bad)) << bad;
  }
  EXPECT_TRUE(account_name_problem(std::string(33, 'u')));
  EXPECT_FALSE(account_name_problem(std::string(32, 'u')));
}

TEST(Values, InterfaceNamesAsTheKernelTakesThem) {
  EXPECT_FALSE(interface_name_problem("eth0"));
  EXPECT_FALSE(interface_name_problem("enp0s31f6"));
  EXPECT_FALSE(interface_name_problem("br-lan.100"));
  EXPECT_TRUE(interface_name_problem(""));
  EXPECT_TRUE(interface_name_problem("averyveryverylong"));  // 17: IFNAMSIZ is 16
  EXPECT_TRUE(interface_name_problem("a/b"));
  EXPECT_TRUE(interface_name_problem("a:1"));
  EXPECT_TRUE(interface_name_problem("a b"));
  EXPECT_TRUE(interface_name_problem(".."));
}

TEST(Values, EnvironmentNames) {
  EXPECT_FALSE(env_name_problem("MODE"));
  EXPECT_FALSE(env_name_problem("_X1"));
  EXPECT_TRUE(env_name_problem(""));
  EXPECT_TRUE(env_name_problem("A=B"));
  EXPECT_TRUE(env_name_problem("1A"));
  EXPECT_TRUE(env_name_problem("A-B"));
}

TEST(Values, HardwareNames) {
  EXPECT_FALSE(chip_problem("coretemp"));
  EXPECT_FALSE(chip_problem("nvme@nvme0"));
  EXPECT_TRUE(chip_problem("core/temp"));
  EXPECT_TRUE(chip_problem("nvme@"));
  EXPECT_TRUE(chip_problem(""));
  EXPECT_FALSE(label_problem("Package id 0"));
  EXPECT_TRUE(label_problem("a\tb"));
  EXPECT_FALSE(edac_controller_problem("mc0"));
  EXPECT_FALSE(edac_controller_problem("mc12"));
  EXPECT_TRUE(edac_controller_problem("mc"));
  EXPECT_TRUE(edac_controller_problem("mcx"));
  EXPECT_FALSE(md_array_problem("md127"));
  EXPECT_FALSE(md_array_problem("md_home"));
  EXPECT_TRUE(md_array_problem("sda"));
  EXPECT_TRUE(md_array_problem("md_a/b"));
  EXPECT_FALSE(device_path_problem("/dev/sda"));
  EXPECT_FALSE(device_path_problem("/dev/disk/by-id/ata-X"));
  EXPECT_TRUE(device_path_problem("/srv/sda"));
  EXPECT_TRUE(device_path_problem("sda"));
}

TEST(Values, SystemdUnitNames) {
  EXPECT_FALSE(unit_name_problem("sshd.service"));
  EXPECT_FALSE(unit_name_problem("sshd"));  // a service, as systemctl reads it
  EXPECT_FALSE(unit_name_problem("postgresql@15-main.service"));
  EXPECT_FALSE(unit_name_problem("srv-data.mount"));
  EXPECT_FALSE(unit_name_problem("a\\x2db.service"));
  EXPECT_TRUE(unit_name_problem("sshd.servise"));
  EXPECT_TRUE(unit_name_problem(".service"));
  EXPECT_TRUE(unit_name_problem(""));
  EXPECT_TRUE(unit_name_problem("ss hd.service"));
  EXPECT_TRUE(unit_name_problem(std::string(300, 'a') + ".service"));
}

}  // namespace
}  // namespace amata::check
