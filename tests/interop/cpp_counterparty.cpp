// An independent FIX counterparty for execflow's interop tests, built on the C++ FIX engine
// shipped by Debian (libquickfix-dev). Test code only; compiled by tests/interop/conftest.py.
//
//   cpp_counterparty acceptor  SETTINGS            a venue: acks every order; orders priced
//                                                  below 50 rest, others fill at once (price,
//                                                  or 100 for market orders); cancels resting
//                                                  orders; answers status requests
//   cpp_counterparty initiator SETTINGS N TIMEOUT  a client: sends N NewOrderSingles (even ones
//                                                  marketable), waits for an ExecutionReport
//                                                  New for each and a Trade for the marketable
//                                                  ones; exit 0 on success, 1 on timeout
//   cpp_counterparty idle      SETTINGS SECONDS    a client: logs on, stays logged on for SECONDS
//                                                  (heartbeats, test requests), logs out
//   cpp_counterparty ioi       SETTINGS 1 TIMEOUT  a client: sends an IOI (6), waits for one of
//                                                  the broker's
//   cpp_counterparty alloc     SETTINGS N TIMEOUT  a client: a market block order of N ACME for
//                                                  account BLOCK, then an AllocationInstruction
//                                                  (J) giving N/3 to each of three accounts;
//                                                  waits for the Ack (P) and 3 Confirmations (AK)
//   cpp_counterparty instructions SETTINGS 1 TIMEOUT  a client: a pegged order (OrdType P,
//                                                  PegPriceType 5 primary, PegOffsetValue -0.05,
//                                                  cap 100.00, MaxFloor 100, ExecInst 1) and a
//                                                  reserve order (limit 99.00, 500 showing 100
//                                                  via MaxFloor) and a min-qty sell with
//                                                  discretion; waits for their New reports and
//                                                  prints "INSTR <ClOrdID> 150=.. 40=.. ..."
//                                                  with the instruction fields each echoes
//   cpp_counterparty routed    SETTINGS N TIMEOUT  a client: N NewOrderSingles sent on behalf
//                                                  of CPPDESK/TRADER1 (OnBehalfOfCompID/SubID),
//                                                  each report must come back with DeliverTo
//                                                  CPPDESK/TRADER1; then one on behalf of NOBODY
//                                                  must get a session Reject 373=9 (case 18)
//   cpp_counterparty encrypt   SETTINGS M TIMEOUT  a client whose Logon asks for EncryptMethod
//                                                  M; exit 0 when it is not logged on within
//                                                  TIMEOUT seconds (case 17.b)
//   cpp_counterparty bench     SETTINGS N WARMUP   a client: N sequential NewOrderSingle ->
//                                                  first ExecutionReport round trips; prints
//                                                  the latencies in ns as one JSON line
//
// Every session event goes to stdout, one line each ("LOGON", "FROM_ADMIN 2", "TO_ADMIN 4",
// "ER <ClOrdID> <ExecType> <OrdStatus> <PossDup>", "FROM_ADMIN A seq=1 reset=Y test=", ...), for
// the tests to assert on.

#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mutex out_mutex;

void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::cout << line << std::endl;
}

std::string get(const FIX::FieldMap& m, int tag, const std::string& dflt = "") {
  return m.isSetField(tag) ? m.getField(tag) : dflt;
}

std::string msg_type(const FIX::Message& m) { return m.getHeader().getField(35); }

// "FROM_ADMIN <MsgType> seq=<34> reset=<141 or N> test=<112>"
std::string admin_line(const FIX::Message& m) {
  return "FROM_ADMIN " + msg_type(m) + " seq=" + get(m.getHeader(), 34) +
         " reset=" + get(m, 141, "N") + " test=" + get(m, 112);
}

FIX::Message new_message(const char* type) {
  FIX::Message m;
  m.getHeader().setField(35, type);
  return m;
}

struct Order {
  std::string cl, symbol, side, qty, price, status;
};

class Venue : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override { say("LOGON"); }
  void onLogout(const FIX::SessionID&) override { say("LOGOUT"); }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override { say("TO_ADMIN " + msg_type(m)); }
  void toApp(FIX::Message& m, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    if (get(m.getHeader(), 43) == "Y") say("RESEND " + msg_type(m) + " " + get(m, 11));
  }
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {
    say(admin_line(m));
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID& sid) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    const std::string type = msg_type(m);
    say("FROM_APP " + type + " " + get(m, 11) + " possdup=" + get(m.getHeader(), 43, "N"));
    if (type == "D") {
      Order o{get(m, 11), get(m, 55), get(m, 54), get(m, 38), get(m, 44), "0"};
      const bool marketable = o.price.empty() || std::atof(o.price.c_str()) >= 50.0;
      orders_[o.cl] = o;
      report(sid, o, "0", "0", "", "", o.qty, "0");
      if (marketable) {
        const std::string px = o.price.empty() ? "100" : o.price;
        orders_[o.cl].status = "2";
        report(sid, o, "F", "2", o.qty, px, "0", o.qty, px);
      }
    } else if (type == "F") {
      auto it = orders_.find(get(m, 41));
      if (it == orders_.end() || it->second.status != "0") {
        FIX::Message r = new_message("9");
        r.setField(37, it == orders_.end() ? "NONE" : "V-" + it->second.cl);
        r.setField(11, get(m, 11));
        r.setField(41, get(m, 41));
        r.setField(39, it == orders_.end() ? "8" : it->second.status);
        r.setField(434, "1");
        r.setField(102, it == orders_.end() ? "1" : "0");
        FIX::Session::sendToTarget(r, sid);
        return;
      }
      Order o = it->second;
      orders_.erase(it);
      o.status = "4";
      const std::string orig = o.cl;
      o.cl = get(m, 11);
      orders_[o.cl] = o;
      report(sid, o, "4", "4", "", "", "0", "0", "", orig);
    } else if (type == "H") {
      auto it = orders_.find(get(m, 11));
      if (it == orders_.end()) {
        Order o{get(m, 11), get(m, 55, "[N/A]"), get(m, 54, "1"), "0", "", "8"};
        report(sid, o, "I", "8", "", "", "0", "0");
      } else {
        const Order& o = it->second;
        const bool filled = o.status == "2";
        report(sid, o, "I", o.status, "", "", filled ? "0" : o.qty, filled ? o.qty : "0",
               filled ? (o.price.empty() ? "100" : o.price) : "");
      }
    }
  }

 private:
  void report(const FIX::SessionID& sid, const Order& o, const std::string& exec_type,
              const std::string& status, const std::string& last_qty, const std::string& last_px,
              const std::string& leaves, const std::string& cum, const std::string& avg = "",
              const std::string& orig = "") {
    FIX::Message r = new_message("8");
    r.setField(37, "V-" + o.cl);
    r.setField(11, o.cl);
    if (!orig.empty()) r.setField(41, orig);
    std::ostringstream id;
    id << "CPP-" << ++exec_;
    r.setField(17, id.str());
    r.setField(150, exec_type);
    r.setField(39, status);
    r.setField(55, o.symbol);
    r.setField(54, o.side);
    r.setField(38, o.qty);
    if (!o.price.empty()) r.setField(44, o.price);
    if (!last_qty.empty()) {
      r.setField(32, last_qty);
      r.setField(31, last_px);
    }
    r.setField(151, leaves);
    r.setField(14, cum);
    r.setField(6, avg.empty() ? "0" : avg);
    r.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 6));
    FIX::Session::sendToTarget(r, sid);
  }

  std::map<std::string, Order> orders_;
  long exec_ = 0;
};

class Client : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& sid) override {
    say("LOGON");
    std::lock_guard<std::mutex> lock(mutex_);
    sid_ = sid;
    logged_on_ = true;
    cv_.notify_all();
  }
  void onLogout(const FIX::SessionID&) override {
    say("LOGOUT");
    std::lock_guard<std::mutex> lock(mutex_);
    logged_on_ = false;
  }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override {
    if (!encrypt_method_.empty() && msg_type(m) == "A") m.setField(98, encrypt_method_);
    say("TO_ADMIN " + msg_type(m));
  }
  void toApp(FIX::Message& m, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    std::lock_guard<std::mutex> lock(mutex_);
    sent_seq_[get(m, 11)] = get(m.getHeader(), 34);
  }
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {
    say(admin_line(m));
    if (msg_type(m) == "3") {  // a session Reject of ours
      say("REJECT ref=" + get(m, 45) + " reason=" + get(m, 373) + " tag=" + get(m, 371));
      std::lock_guard<std::mutex> lock(mutex_);
      rejects_[get(m, 45)] = get(m, 373) + "/" + get(m, 371);
      cv_.notify_all();
    }
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    if (m.getHeader().isSetField(128)) {  // third-party addressing: the report's routing
      const std::string route = get(m.getHeader(), 128) + "/" + get(m.getHeader(), 129);
      say("ROUTE " + get(m, 11) + " deliver=" + route);
      std::lock_guard<std::mutex> lock(mutex_);
      routes_[get(m, 11)] = route;
    }
    if (msg_type(m) == "6") {  // an indication of interest from the broker
      say("IOI " + get(m, 23) + " trans=" + get(m, 28) + " side=" + get(m, 54) + " qty=" +
          get(m, 27) + " sym=" + get(m, 55) + " px=" + get(m, 44) + " natural=" + get(m, 130, "N"));
      std::lock_guard<std::mutex> lock(mutex_);
      alloc_answers_["6"] += 1;
      cv_.notify_all();
      return;
    }
    if (msg_type(m) == "P" || msg_type(m) == "AK") {  // allocation answers
      if (msg_type(m) == "P") {
        say("P " + get(m, 70) + " status=" + get(m, 87) + " rej=" + get(m, 88) +
            " text=" + get(m, 58));
      } else {
        say("AK " + get(m, 79) + " qty=" + get(m, 80) + " avgpx=" + get(m, 6) +
            " gross=" + get(m, 381) + " net=" + get(m, 118) + " status=" + get(m, 665) +
            " settl=" + get(m, 64) + " alloc=" + get(m, 70));
      }
      std::lock_guard<std::mutex> lock(mutex_);
      alloc_answers_[msg_type(m)] += 1;
      cv_.notify_all();
      return;
    }
    const std::string cl = get(m, 11), type = get(m, 150);
    if (instructions_ && msg_type(m) == "8") {  // the instruction fields the report echoes
      std::string line = "INSTR " + cl + " 150=" + type + " 40=" + get(m, 40);
      for (int tag : {44, 1094, 211, 111, 110, 388, 389, 18})
        line += " " + std::to_string(tag) + "=" + get(m, tag, "-");
      say(line);
    }
    if (!quiet_) {
      say("ER " + cl + " " + type + " " + get(m, 39) + " " + get(m.getHeader(), 43, "N") +
          " text=" + get(m, 58));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (msg_type(m) == "8") {
      seen_[cl].push_back(type);
      if (m.isSetField(6)) avg_[cl] = get(m, 6);
      if (m.isSetField(14)) cum_[cl] = get(m, 14);
      cv_.notify_all();
    }
  }

  // a block order for several accounts: a market buy of `qty` ACME on account BLOCK
  void send_block(const std::string& cl, const std::string& qty) {
    FIX::Message m = new_message("D");
    m.setField(11, cl);
    m.setField(1, "BLOCK");
    m.setField(55, "ACME");
    m.setField(54, "1");
    m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
    m.setField(38, qty);
    m.setField(40, "1");
    m.setField(59, "0");
    FIX::Session::sendToTarget(m, sid_);
  }

  // AllocationInstruction (J) of block `cl`: accounts[i] gets qtys[i]
  void send_allocation(const std::string& alloc_id, const std::string& cl,
                       const std::vector<std::pair<std::string, std::string>>& allocs) {
    std::string avg, cum;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      avg = avg_[cl];
      cum = cum_[cl];
    }
    FIX::Message m = new_message("J");
    m.setField(70, alloc_id);
    m.setField(71, "0");   // new
    m.setField(626, "2");  // preliminary: the broker computes the money
    m.setField(857, "1");  // explicit list of orders
    FIX::Group order(73, 11);
    order.setField(11, cl);
    m.addGroup(order);
    m.setField(54, "1");
    m.setField(55, "ACME");
    m.setField(53, cum);
    m.setField(6, avg);
    char day[9];
    const std::time_t now = std::time(nullptr);
    std::strftime(day, sizeof day, "%Y%m%d", std::gmtime(&now));
    m.setField(75, day);
    for (const auto& a : allocs) {
      FIX::Group g(78, 79);
      g.setField(79, a.first);
      g.setField(80, a.second);
      m.addGroup(g);
    }
    FIX::Session::sendToTarget(m, sid_);
  }

  // an IOI (6) of ours: selling a large ACME block around `px`, a natural
  void send_ioi(const std::string& id, const std::string& px) {
    FIX::Message m = new_message("6");
    m.setField(23, id);
    m.setField(28, "N");
    m.setField(55, "ACME");
    m.setField(54, "2");
    m.setField(27, "L");
    m.setField(44, px);
    m.setField(25, "H");
    m.setField(130, "Y");
    FIX::Session::sendToTarget(m, sid_);
  }

  bool wait_ioi(int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return alloc_answers_["6"] >= 1; });
  }

  bool wait_filled(const std::string& cl, int qty, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
      auto it = cum_.find(cl);
      return it != cum_.end() && std::atof(it->second.c_str()) >= qty;
    });
  }

  bool wait_allocation(int confirmations, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
      return alloc_answers_["P"] >= 1 && alloc_answers_["AK"] >= confirmations;
    });
  }

  // institutional order types (issue 25): `fields` on top of ACME, account ACC-1, DAY
  void send_instructed(const std::string& cl, const std::string& side, const std::string& qty,
                       const std::vector<std::pair<int, std::string>>& fields) {
    FIX::Message m = new_message("D");
    m.setField(11, cl);
    m.setField(1, "ACC-1");
    m.setField(55, "ACME");
    m.setField(54, side);
    m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
    m.setField(38, qty);
    m.setField(59, "0");
    for (const auto& f : fields) m.setField(f.first, f.second);
    FIX::Session::sendToTarget(m, sid_);
  }

  bool wait_logon(int timeout_s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(timeout_s), [&] { return logged_on_; });
  }

  void send_order(const std::string& cl, bool marketable, const std::string& on_behalf_of = "") {
    FIX::Message m = new_message("D");
    if (!on_behalf_of.empty()) {
      m.getHeader().setField(115, on_behalf_of);
      m.getHeader().setField(116, "TRADER1");
    }
    m.setField(11, cl);
    m.setField(1, "ACC-1");
    m.setField(55, "ACME");
    m.setField(54, "1");
    m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
    m.setField(38, "100");
    if (marketable) {
      m.setField(40, "1");
    } else {
      m.setField(40, "2");
      m.setField(44, "45");
    }
    m.setField(59, "0");
    FIX::Session::sendToTarget(m, sid_);
  }

  // wait until `cl` has an ER of `type` ("" = any)
  bool wait_for(const std::string& cl, const std::string& type, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
      auto it = seen_.find(cl);
      if (it == seen_.end()) return false;
      if (type.empty()) return true;
      for (const auto& t : it->second)
        if (t == type) return true;
      return false;
    });
  }

  // the DeliverToCompID/SubID every report of `cl` carried ("" if none or they differed)
  std::string route_of(const std::string& cl) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = routes_.find(cl);
    return it == routes_.end() ? "" : it->second;
  }

  // the MsgSeqNum the order `cl` went out with
  std::string seq_of(const std::string& cl) {
    std::lock_guard<std::mutex> lock(mutex_);
    return sent_seq_[cl];
  }

  // wait for a session Reject of the message with MsgSeqNum `seq`: "373/371", "" on timeout
  std::string wait_reject(const std::string& seq, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return rejects_.count(seq) > 0; });
    auto it = rejects_.find(seq);
    return it == rejects_.end() ? "" : it->second;
  }

  bool quiet_ = false;
  bool instructions_ = false;  // print the instruction fields of every report
  std::string encrypt_method_;  // EncryptMethod (98) of our Logon when not empty

 private:
  std::map<std::string, std::string> routes_, rejects_, sent_seq_;
  std::mutex mutex_;
  std::condition_variable cv_;
  FIX::SessionID sid_;
  bool logged_on_ = false;
  std::map<std::string, std::vector<std::string>> seen_;
  std::map<std::string, std::string> avg_, cum_;
  std::map<std::string, int> alloc_answers_;
};

int run_client(FIX::SessionSettings& settings, const std::string& mode, int n, int extra) {
  Client app;
  app.quiet_ = mode == "bench";
  app.instructions_ = mode == "instructions";
  if (mode == "encrypt") app.encrypt_method_ = std::to_string(n);
  FIX::FileStoreFactory store(settings);
  FIX::FileLogFactory log(settings);
  FIX::SocketInitiator initiator(app, store, settings, log);
  initiator.start();
  if (mode == "encrypt") {  // n = EncryptMethod: the broker must refuse the Logon (case 17.b)
    const bool on = app.wait_logon(extra);
    initiator.stop();
    say(on ? "FAIL logged on with EncryptMethod " + std::to_string(n) : "OK encrypt refused");
    return on ? 1 : 0;
  }
  if (!app.wait_logon(10)) {
    say("FAIL no logon");
    initiator.stop();
    return 1;
  }
  const auto tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  int rc = 0;
  if (mode == "idle") {  // n = seconds to stay logged on; then log out
    std::this_thread::sleep_for(std::chrono::seconds(n));
    say("OK idle");
  } else if (mode == "initiator") {
    for (int i = 0; i < n; ++i) app.send_order("CPP-" + tag + "-" + std::to_string(i), i % 2 == 0);
    for (int i = 0; i < n && rc == 0; ++i) {
      const std::string cl = "CPP-" + tag + "-" + std::to_string(i);
      if (!app.wait_for(cl, "0", extra * 1000) ||
          (i % 2 == 0 && !app.wait_for(cl, "F", extra * 1000))) {
        say("FAIL no execution report for " + cl);
        rc = 1;
      }
    }
    if (rc == 0) say("OK " + std::to_string(n));
  } else if (mode == "routed") {  // case 18: on behalf of CPPDESK/TRADER1, then NOBODY
    for (int i = 0; i < n; ++i)
      app.send_order("CPPR-" + tag + "-" + std::to_string(i), i % 2 == 0, "CPPDESK");
    for (int i = 0; i < n && rc == 0; ++i) {
      const std::string cl = "CPPR-" + tag + "-" + std::to_string(i);
      if (!app.wait_for(cl, "0", extra * 1000) ||
          (i % 2 == 0 && !app.wait_for(cl, "F", extra * 1000))) {
        say("FAIL no execution report for " + cl);
        rc = 1;
      } else if (app.route_of(cl) != "CPPDESK/TRADER1") {
        say("FAIL report of " + cl + " not delivered to CPPDESK/TRADER1: " + app.route_of(cl));
        rc = 1;
      }
    }
    if (rc == 0) {
      const std::string cl = "CPPR-" + tag + "-NOBODY";
      app.send_order(cl, true, "NOBODY");
      const std::string reject = app.wait_reject(app.seq_of(cl), extra * 1000);
      if (reject != "9/115") {
        say("FAIL order on behalf of NOBODY: Reject " + reject + ", expected 373=9 on tag 115");
        rc = 1;
      } else {
        say("OK routed " + std::to_string(n));
      }
    }
  } else if (mode == "ioi") {  // send an IOI, then wait for one from the broker
    app.send_ioi("CPPIOI-" + tag, "100.05");
    if (!app.wait_ioi(extra * 1000)) {
      say("FAIL no IOI from the broker");
      rc = 1;
    } else {
      say("OK ioi");
    }
  } else if (mode == "instructions") {  // pegged, reserve, min qty + discretion
    const std::string peg = "PEG-" + tag, res = "RES-" + tag, mq = "MIN-" + tag;
    app.send_instructed(peg, "1", "300", {{40, "P"}, {44, "100.00"}, {1094, "5"}, {211, "-0.05"},
                                          {111, "100"}, {18, "1"}});
    app.send_instructed(res, "1", "500", {{40, "2"}, {44, "99.00"}, {111, "100"}});
    app.send_instructed(mq, "2", "400", {{40, "2"}, {44, "101.00"}, {110, "200"}, {388, "0"},
                                         {389, "-0.10"}});
    for (const auto& cl : {peg, res, mq}) {
      if (rc == 0 && !app.wait_for(cl, "0", extra * 1000)) {
        say("FAIL no New report for " + cl);
        rc = 1;
      }
    }
    if (rc == 0) say("OK instructions");
  } else if (mode == "alloc") {  // n = block quantity; 3 accounts get n/3 each
    const std::string cl = "BLK-" + tag, each = std::to_string(n / 3);
    app.send_block(cl, std::to_string(n));
    if (!app.wait_filled(cl, n, extra * 1000)) {  // it may fill in several trades
      say("FAIL block not filled");
      rc = 1;
    } else {
      app.send_allocation("AL-" + tag, cl, {{"ALLOC-A", each}, {"ALLOC-B", each}, {"ALLOC-C", each}});
      if (!app.wait_allocation(3, extra * 1000)) {
        say("FAIL no AllocationInstructionAck and 3 Confirmations");
        rc = 1;
      } else {
        say("OK alloc");
      }
    }
  } else {  // bench: extra = warmup round trips, not reported
    std::vector<long long> ns;
    ns.reserve(n);
    for (int i = 0; i < n + extra; ++i) {
      const std::string cl = "B-" + tag + "-" + std::to_string(i);
      const auto t0 = std::chrono::steady_clock::now();
      app.send_order(cl, false);
      if (!app.wait_for(cl, "", 5000)) {
        say("FAIL no execution report for " + cl);
        rc = 1;
        break;
      }
      const auto dt = std::chrono::steady_clock::now() - t0;
      if (i >= extra) ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count());
    }
    std::ostringstream js;
    js << "{\"rtt_ns\": [";
    for (size_t i = 0; i < ns.size(); ++i) js << (i ? "," : "") << ns[i];
    js << "]}";
    say(js.str());
  }
  initiator.stop();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: cpp_counterparty acceptor|initiator|idle|routed|encrypt|ioi|instructions|alloc|bench SETTINGS [N TIMEOUT|WARMUP]\n";
    return 2;
  }
  const std::string mode = argv[1];
  try {
    FIX::SessionSettings settings(argv[2]);
    if (mode == "acceptor") {
      Venue app;
      FIX::FileStoreFactory store(settings);
      FIX::FileLogFactory log(settings);
      FIX::SocketAcceptor acceptor(app, store, settings, log);
      acceptor.start();
      say("READY");
      std::string line;
      while (std::getline(std::cin, line)) {  // runs until stdin closes
      }
      acceptor.stop();
      return 0;
    }
    const int n = argc > 3 ? std::atoi(argv[3]) : 1;
    const int extra = argc > 4 ? std::atoi(argv[4]) : 10;
    return run_client(settings, mode, n, extra);
  } catch (std::exception& e) {
    say(std::string("FAIL ") + e.what());
    return 1;
  }
}
