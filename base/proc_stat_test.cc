#include "base/proc_stat.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace amata::base {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PidStat, CommWithSpacesAndParentheses) {
  std::string text = read_file("tests/fixtures/proc/modern/4242/stat");  // comm points into it
  auto s = parse_pid_stat(text);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->comm, "(a) b)");
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 1);
  EXPECT_EQ(s->utime, 150u);
  EXPECT_EQ(s->stime, 50u);
  EXPECT_EQ(s->threads, 3u);
  EXPECT_EQ(s->starttime, 12345u);
  EXPECT_EQ(s->rss_pages, 2560u);
}

TEST(PidStat, MissingFieldsAreRejected) {
  EXPECT_FALSE(parse_pid_stat("4242 (x) S 1 2 3"));  // cut before rss
  EXPECT_FALSE(parse_pid_stat("4242 x S 1"));        // no parentheses
  EXPECT_FALSE(parse_pid_stat("4242 (x"));
  EXPECT_FALSE(parse_pid_stat(") (x S"));
  EXPECT_FALSE(parse_pid_stat("4242 (x) S 1 2 3 a 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"));
  EXPECT_FALSE(parse_pid_stat(""));
}

TEST(PidStat, ThisProcessAsTheKernelWritesIt) {
  std::string text;
  auto s = read_pid_stat(getpid(), text);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->pid, getpid());
  EXPECT_EQ(s->ppid, getppid());
  EXPECT_EQ(s->pgrp, getpgrp());
  EXPECT_EQ(s->session, getsid(0));
  EXPECT_GE(s->threads, 1u);
  EXPECT_GT(s->rss_pages, 0u);
  auto start = process_start_time(getpid());
  ASSERT_TRUE(start);
  EXPECT_EQ(*start, s->starttime);
}

TEST(PidStat, AnEndedProcessHasNoStartTime) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  siginfo_t info{};
  // Wait for the exit without reaping: the child is a zombie now.
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  EXPECT_FALSE(process_start_time(child));
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(process_start_time(child));  // and gone
}

}  // namespace
}  // namespace amata::base
