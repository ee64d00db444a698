#include "compiler/jit/jit.h"

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "compiler/ir/runtime.h"

namespace amata::jit {
namespace {

// The fused function: void discover(frame, numbers, words, changed, now).
// Writes changed[r] != 0 for every rule r whose active flag changed, 0 otherwise; it does not
// write the flag word itself (the caller flips it for the few rules that changed).
using DiscoverFn = void (*)(const ir::RuntimeFrame*, const double*, double*, std::uint8_t*, double);
constexpr const char* kDiscoverName = "amata_discover";
constexpr std::size_t kRulesPerBlock = 16;

std::string to_string(llvm::Error err) {
  std::string s;
  llvm::handleAllErrors(std::move(err), [&](const llvm::ErrorInfoBase& e) {
    if (!s.empty()) s += "; ";
    s += e.message();
  });
  return s;
}

double check_time(const ir::RuntimeFrame* frame, std::int32_t object, double now) noexcept {
  if (frame->check_times == nullptr || object < 0) return now;
  return frame->check_times[object];
}

// --- Code generation -------------------------------------------------------------------

class Codegen {
 public:
  Codegen(const ir::Program& p, llvm::LLVMContext& ctx)
      : p_(p), ctx_(ctx), module_(std::make_unique<llvm::Module>("amata_policy", ctx)), b_(ctx) {}

  std::unique_ptr<llvm::Module> build() {
    auto* dbl = b_.getDoubleTy();
    auto* i32 = b_.getInt32Ty();
    auto* ptr = b_.getPtrTy();
    auto declare = [&](const char* name, llvm::Type* ret, const std::vector<llvm::Type*>& args) {
      auto* fn = llvm::Function::Create(llvm::FunctionType::get(ret, args, false),
                                        llvm::Function::ExternalLinkage, name, *module_);
      fn->setDoesNotThrow();
      return fn;
    };
    window_ = declare("amata_rt_window", dbl, {ptr, i32, i32, dbl, dbl, dbl});
    str_eq_ = declare("amata_rt_str_eq", dbl, {ptr, i32, i32});
    match_ = declare("amata_rt_match", dbl, {ptr, i32, i32});
    temporal_ = declare("amata_rt_temporal", dbl, {ptr, i32, dbl, i32, dbl, dbl, dbl});
    check_time_ = declare("amata_rt_check_time", dbl, {ptr, i32, dbl});
    clear_after_ = declare("amata_rt_clear_after", dbl, {ptr, dbl, dbl, dbl, dbl, dbl});

    constants_ = constant_table();

    auto* fty = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, ptr, ptr, dbl}, false);
    fn_ = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, kDiscoverName, *module_);
    fn_->setDoesNotThrow();
    auto arg = fn_->arg_begin();
    frame_ = &*arg++;
    numbers_ = &*arg++;
    words_ = &*arg++;
    changed_ = &*arg++;
    now_ = &*arg++;
    frame_->setName("frame");
    numbers_->setName("numbers");
    words_->setName("words");
    changed_->setName("changed");
    now_->setName("now");

    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn_));
    values_.assign(p_.exprs.size(), nullptr);
    truths_.assign(p_.exprs.size(), nullptr);
    falsities_.assign(p_.exprs.size(), nullptr);
    for (std::size_t i = 0; i < p_.rules.size(); ++i) {
      // Blocks of a few rules: fast isel and the fast register allocator are superlinear
      // in the size of one block (1,000 rules in one block compiled in 186 ms, in blocks of
      // 16 in 40 ms), and a branch every 16 rules costs nothing at run time.
      if (i > 0 && i % kRulesPerBlock == 0) {
        auto* next = llvm::BasicBlock::Create(ctx_, "rules", fn_);
        b_.CreateBr(next);
        b_.SetInsertPoint(next);
      }
      emit_rule(i);
    }
    b_.CreateRetVoid();
    return std::move(module_);
  }

 private:
  llvm::Value* c(double v) { return llvm::ConstantFP::get(b_.getDoubleTy(), v); }
  llvm::Value* i32(std::int64_t v) { return b_.getInt32(static_cast<std::uint32_t>(v)); }
  llvm::Value* nan() { return c(std::numeric_limits<double>::quiet_NaN()); }
  // A select, not uitofp: X86 fast isel handles selects and falls back to SelectionDAG on
  // uitofp from i1, which made compiles ~10x slower.
  llvm::Value* bool_to_double(llvm::Value* b) { return b_.CreateSelect(b, c(1), c(0)); }

  // The truth of an expression as i1, without materialising its three-valued value:
  // truthy(cond) of a comparison is the ordered comparison (false on NaN), of `and` the and
  // of the truths, of `not a` the falsity of a. Exact, not an approximation: the
  // differential tests hold it to the interpreter's eval_expr + truthy.
  llvm::Value* truth(int index) { return known(index, true); }

  // Whether an expression is known false (0, not NaN): the truth of `not e`.
  llvm::Value* falsity(int index) { return known(index, false); }

  // truth (`want` true) or falsity (`want` false) of an expression. The falsity mirrors the
  // truth by De Morgan: `not (a and b)` holds when either is known false, and not (a < b)
  // holds when both are numbers and a >= b: the inverse ordered predicate.
  llvm::Value* known(int index, bool want) {
    auto& memo = (want ? truths_ : falsities_)[static_cast<std::size_t>(index)];
    if (memo != nullptr) return memo;
    const ir::Expr& e = p_.exprs[static_cast<std::size_t>(index)];
    using ir::Op;
    using P = llvm::CmpInst::Predicate;
    llvm::Value* v = nullptr;
    switch (e.op) {
      case Op::kConst:
        v = b_.getInt1(want ? ir::truthy(e.value) : e.value == 0);
        break;
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
      case Op::kEq:
      case Op::kNe: {
        // Indexed by op - kLt: {truth, falsity}.
        static constexpr P kPredicates[][2] = {
            {P::FCMP_OLT, P::FCMP_OGE}, {P::FCMP_OLE, P::FCMP_OGT}, {P::FCMP_OGT, P::FCMP_OLE},
            {P::FCMP_OGE, P::FCMP_OLT}, {P::FCMP_OEQ, P::FCMP_ONE}, {P::FCMP_ONE, P::FCMP_OEQ}};
        static_assert(std::size(kPredicates) ==
                      static_cast<std::size_t>(Op::kNe) - static_cast<std::size_t>(Op::kLt) + 1);
        const auto row = static_cast<std::size_t>(e.op) - static_cast<std::size_t>(Op::kLt);
        v = compare(kPredicates[row][want ? 0 : 1], e.a, e.b);
        break;
      }
      case Op::kAnd:
      case Op::kOr:
        // The truth of `and` and the falsity of `or` need both sides; the others either.
        if ((e.op == Op::kAnd) == want) {
          v = b_.CreateAnd(known(e.a, want), known(e.b, want));
        } else {
          v = b_.CreateOr(known(e.a, want), known(e.b, want));
        }
        break;
      case Op::kNot:
        v = known(e.a, !want);
        break;
      default: {
        // Zero first, the value last: see compare().
        auto* zero = c(0);
        v = b_.CreateFCmp(want ? P::FCMP_ONE : P::FCMP_OEQ, zero, expr(index));
        break;
      }
    }
    memo = v;
    return v;
  }
  // The program's comparison constants (kConst values and `for` durations) as one private
  // array. Fast isel never folds a constant-pool operand into a compare (a constant costs a
  // separate load into a register), but it does fold a load that immediately precedes its
  // one user: `x > 90` becomes `ucomisd k+8(%rip), %xmm1`, as g++ writes it.
  llvm::GlobalVariable* constant_table() {
    std::vector<double> values;
    auto add = [&](double v) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &v, sizeof bits);
      if (constant_index_.emplace(bits, values.size()).second) values.push_back(v);
    };
    for (const ir::Expr& e : p_.exprs) {
      if (e.op == ir::Op::kConst) add(e.value);
    }
    for (const ir::Rule& r : p_.rules) {
      if (r.temporal == ir::Temporal::kForDuration) add(r.seconds);
    }
    if (values.empty()) values.push_back(0);  // a zero-length array is legal but odd to read
    auto* init = llvm::ConstantDataArray::get(ctx_, values);
    // Through the module, not `new GlobalVariable`: g++ 12 reports a false
    // -Wmismatched-new-delete on LLVM's placement new for globals.
    auto* table =
        llvm::cast<llvm::GlobalVariable>(module_->getOrInsertGlobal("constants", init->getType()));
    table->setInitializer(init);
    table->setConstant(true);
    table->setLinkage(llvm::GlobalValue::PrivateLinkage);
    table->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return table;
  }

  // A constant as a load from the table, emitted where it is used (so it can fold); zero
  // stays an immediate (xor to a register, cheaper than any load).
  llvm::Value* constant_operand(double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    auto it = constant_index_.find(bits);
    if (v == 0 || it == constant_index_.end()) return c(v);
    auto* at = b_.CreateConstInBoundsGEP1_64(b_.getDoubleTy(), constants_, it->second);
    return b_.CreateLoad(b_.getDoubleTy(), at);
  }

  // An operand of a comparison: a constant from the table, anything else as expr().
  llvm::Value* compare_operand(int index) {
    const ir::Expr& e = p_.exprs[static_cast<std::size_t>(index)];
    return e.op == ir::Op::kConst ? constant_operand(e.value) : expr(index);
  }

  // fcmp with its operands emitted left then right, after canonicalising `<`/`<=` to
  // `>`/`>=` with swapped operands. X86 compares ordered `>`/`>=` as `ucomisd right, left`
  // (AT&T), and only `right` can be a memory operand: emitting it last makes its load the
  // instruction just before the fcmp, which fast isel folds. Equality is symmetric: the
  // non-constant goes right, so `x == 0` is `xor; ucomisd x(%rsi)`.
  llvm::Value* compare(llvm::CmpInst::Predicate pred, int left, int right) {
    using P = llvm::CmpInst::Predicate;
    if (pred == P::FCMP_OLT || pred == P::FCMP_OLE) {
      pred = llvm::CmpInst::getSwappedPredicate(pred);
      std::swap(left, right);
    } else if ((pred == P::FCMP_OEQ || pred == P::FCMP_ONE) &&
               p_.exprs[static_cast<std::size_t>(right)].op == ir::Op::kConst) {
      std::swap(left, right);
    }
    auto* l = compare_operand(left);
    auto* r = compare_operand(right);
    return b_.CreateFCmp(pred, l, r);
  }

  llvm::Value* word_ptr(int index) {
    return b_.CreateConstInBoundsGEP1_64(b_.getDoubleTy(), words_,
                                         static_cast<std::uint64_t>(index));
  }

  llvm::Value* expr(int index) {
    if (values_[static_cast<std::size_t>(index)] != nullptr) {
      return values_[static_cast<std::size_t>(index)];
    }
    const ir::Expr& e = p_.exprs[static_cast<std::size_t>(index)];
    llvm::Value* v = nullptr;
    using ir::Op;
    switch (e.op) {
      case Op::kConst:
        v = c(e.value);
        break;
      case Op::kSlot: {
        auto* at = b_.CreateConstInBoundsGEP1_64(b_.getDoubleTy(), numbers_,
                                                 static_cast<std::uint64_t>(e.slot));
        v = b_.CreateLoad(b_.getDoubleTy(), at);
        break;
      }
      case Op::kStrEq:
        v = b_.CreateCall(str_eq_, {frame_, i32(e.slot), i32(e.str)});
        break;
      case Op::kStrNe:
        v = b_.CreateFSub(c(1), b_.CreateCall(str_eq_, {frame_, i32(e.slot), i32(e.str)}));
        break;
      case Op::kMatch:
        v = b_.CreateCall(match_, {frame_, i32(e.slot), i32(e.str)});
        break;
      case Op::kNot: {
        auto* a = expr(e.a);
        v = b_.CreateSelect(b_.CreateFCmpUNO(a, a), nan(),
                            bool_to_double(b_.CreateFCmpOEQ(a, c(0))));
        break;
      }
      case Op::kNeg:
        v = b_.CreateFNeg(expr(e.a));
        break;
      case Op::kAdd:
        v = b_.CreateFAdd(expr(e.a), expr(e.b));
        break;
      case Op::kSub:
        v = b_.CreateFSub(expr(e.a), expr(e.b));
        break;
      case Op::kMul:
        v = b_.CreateFMul(expr(e.a), expr(e.b));
        break;
      case Op::kDiv:
        v = b_.CreateFDiv(expr(e.a), expr(e.b));
        break;
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
      case Op::kEq:
      case Op::kNe: {
        auto* a = expr(e.a);
        auto* bv = expr(e.b);
        llvm::Value* cmp = nullptr;
        switch (e.op) {
          case Op::kLt:
            cmp = b_.CreateFCmpOLT(a, bv);
            break;
          case Op::kLe:
            cmp = b_.CreateFCmpOLE(a, bv);
            break;
          case Op::kGt:
            cmp = b_.CreateFCmpOGT(a, bv);
            break;
          case Op::kGe:
            cmp = b_.CreateFCmpOGE(a, bv);
            break;
          case Op::kEq:
            cmp = b_.CreateFCmpOEQ(a, bv);
            break;
          default:
            cmp = b_.CreateFCmpONE(a, bv);
            break;
        }
        v = b_.CreateSelect(b_.CreateFCmpUNO(a, bv), nan(), bool_to_double(cmp));
        break;
      }
      case Op::kAnd: {
        auto* a = expr(e.a);
        auto* bv = expr(e.b);
        auto* zero = b_.CreateOr(b_.CreateFCmpOEQ(a, c(0)), b_.CreateFCmpOEQ(bv, c(0)));
        v = b_.CreateSelect(zero, c(0), b_.CreateSelect(b_.CreateFCmpUNO(a, bv), nan(), c(1)));
        break;
      }
      case Op::kOr: {
        auto* a = expr(e.a);
        auto* bv = expr(e.b);
        auto* any = b_.CreateOr(b_.CreateFCmpONE(a, c(0)), b_.CreateFCmpONE(bv, c(0)));
        v = b_.CreateSelect(any, c(1), b_.CreateSelect(b_.CreateFCmpUNO(a, bv), nan(), c(0)));
        break;
      }
      case Op::kAvg:
      case Op::kMin:
      case Op::kMax:
      case Op::kDelta:
      case Op::kRate:
      case Op::kChanged:
      case Op::kPredict:
        v = b_.CreateCall(window_, {frame_, i32(static_cast<int>(e.op)), i32(e.slot), c(e.value),
                                    c(e.horizon), now_});
        break;
    }
    values_[static_cast<std::size_t>(index)] = v;
    return v;
  }

  void emit_rule(std::size_t i) {
    const ir::Rule& r = p_.rules[i];
    llvm::Value* active = nullptr;  // i1
    switch (r.temporal) {
      case ir::Temporal::kNone:
        active = truth(r.cond);
        break;
      case ir::Temporal::kForDuration: {
        // Inline: since = holds ? (since is NaN ? now : since) : NaN; active = holds and
        // now - since >= seconds. Same as amata_rt_temporal, which the interpreter runs.
        auto* holds = truth(r.cond);
        auto* since_ptr = word_ptr(r.state_offset + 1);
        auto* since = b_.CreateLoad(b_.getDoubleTy(), since_ptr);
        auto* kept = b_.CreateSelect(b_.CreateFCmpUNO(since, since), now_, since);
        auto* next = b_.CreateSelect(holds, kept, nan());
        b_.CreateStore(next, since_ptr);
        // No `and holds`: when the condition does not hold, next is NaN and so is now - next,
        // and an ordered >= of NaN is false.
        auto* elapsed = b_.CreateFSub(now_, next);
        active = b_.CreateFCmpOGE(elapsed, constant_operand(r.seconds));
        break;
      }
      case ir::Temporal::kForChecks:
      case ir::Temporal::kTimesWithin: {
        llvm::Value* when = now_;
        if (r.temporal == ir::Temporal::kForChecks) {
          when = b_.CreateCall(check_time_, {frame_, i32(r.check_clock), now_});
        }
        auto* result = b_.CreateCall(
            temporal_, {word_ptr(r.state_offset), i32(static_cast<int>(r.temporal)), c(r.seconds),
                        i32(r.count), bool_to_double(truth(r.cond)), now_, when});
        active = b_.CreateFCmpONE(result, c(0));
        break;
      }
    }
    if (r.clear_after > 0) {
      // `clear after`: rare, so a call (the interpreter runs the same function).
      auto* was_value = b_.CreateLoad(b_.getDoubleTy(), word_ptr(r.state_offset));
      auto* kept = b_.CreateCall(
          clear_after_, {word_ptr(r.state_offset + ir::clear_word(r)), bool_to_double(active),
                         was_value, bool_to_double(truth(r.cond)), c(r.clear_after), now_});
      active = b_.CreateFCmpONE(kept, c(0));
    }
    // Branch-free edge detection: one byte per rule, nonzero when `active` differs from the
    // flag word; the caller flips the flag word of the rules that changed (edges are rare),
    // so the steady state stores no flag. The flag word holds exactly 0.0 or 1.0, so its
    // high half is 0x3FF00000 or 0: the rule compares that with `active` as the same bits,
    // a select (a cmov), xor-ed with the loaded half and shifted down to a byte. Every
    // register this writes is written whole (zeroing xor, mov, cmov, xor, shift): a setcc
    // writes only a byte, which on x86 waits for the register's previous value, and the
    // fast register allocator hands every rule the same registers, so `setne; xor; and` per
    // rule made one chain of dependent instructions through all the rules.
    constexpr std::uint32_t kOneHigh = 0x3FF00000;  // the high half of 1.0's bits
    auto* active_high = b_.CreateSelect(active, b_.getInt32(kOneHigh), b_.getInt32(0));
    // Loaded just before the xor, so fast isel folds the load into it.
    auto* was_high = b_.CreateLoad(
        b_.getInt32Ty(),
        b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), words_,
                                      static_cast<std::uint64_t>(r.state_offset) * 8 + 4));
    auto* changed = b_.CreateLShr(b_.CreateXor(active_high, was_high), 24);
    b_.CreateStore(b_.CreateTrunc(changed, b_.getInt8Ty()),
                   b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), changed_, i));
  }

  const ir::Program& p_;
  llvm::LLVMContext& ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> b_;
  llvm::Function *fn_ = nullptr, *window_ = nullptr, *str_eq_ = nullptr, *match_ = nullptr,
                 *temporal_ = nullptr, *check_time_ = nullptr, *clear_after_ = nullptr;
  llvm::Value *frame_ = nullptr, *numbers_ = nullptr, *words_ = nullptr, *changed_ = nullptr,
              *now_ = nullptr;
  llvm::GlobalVariable* constants_ = nullptr;
  std::unordered_map<std::uint64_t, std::uint64_t> constant_index_;  // double bits -> index
  std::vector<llvm::Value*> values_, truths_, falsities_;
};

llvm::Expected<std::unique_ptr<llvm::Module>> build_module(const ir::Program& p,
                                                           llvm::LLVMContext& ctx) {
  auto module = Codegen(p, ctx).build();
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*module, &os)) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "generated code does not verify: " + os.str());
  }
  return module;
}

void init_llvm_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // X86 domain reassignment takes ~70% of an optimised compile of one huge function
    // (notes/STACK.md) for no measurable gain on this code. The option is global; it only
    // matters at the optimising level.
    // Codegen merges the policy's chain of blocks into one block of thousands of
    // instructions, on which the pre-RA machine scheduler and the X86 machine combiner are
    // quadratic (1,000 rules: 1.2 s, mostly in ScheduleDAGInstrs and MachineTraceMetrics);
    // an out-of-order core gains little from either on this code. The post-RA list
    // scheduler is the same on hosts whose scheduling model enables it (AMD Zen: 1,000
    // rules took 1.3 s, 80% in SUnit::ComputeHeight and addPred; 0.19 s without it).
    auto& options = llvm::cl::getRegisteredOptions();
    const std::pair<const char*, const char*> settings[] = {
        {"disable-x86-domain-reassignment", "true"},
        {"enable-misched", "false"},
        {"x86-machine-combiner", "false"},
        {"post-RA-scheduler", "false"},
    };
    for (const auto& [name, value] : settings) {
      auto it = options.find(name);
      // Position 1, as if first on a command line: post-RA-scheduler counts as given only
      // at a position above 0 (else the subtarget's default wins).
      if (it != options.end()) it->second->addOccurrence(1, name, value);
    }
  });
}

}  // namespace

// One LLJIT per tier; policies are JITDylibs inside them.
class JitEngine {
 public:
  llvm::Expected<llvm::orc::LLJIT*> jit(Tier tier) {
    std::lock_guard lock(mu_);
    auto& slot = tier == Tier::kFast ? fast_ : opt_;
    if (slot) return slot.get();
    auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!jtmb) return jtmb.takeError();
    jtmb->setCodeGenOptLevel(tier == Tier::kFast ? llvm::CodeGenOptLevel::None
                                                 : llvm::CodeGenOptLevel::Default);
    // ORC never asks for fast isel (llc does, through setO0WantsFastISel): without this the
    // fast tier runs SelectionDAG on every block, ~10x slower to compile.
    if (tier == Tier::kFast) jtmb->getOptions().EnableFastISel = true;
    auto created = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
    if (!created) return created.takeError();
    slot = std::move(*created);
    return slot.get();
  }

  std::atomic<int> live{0};
  std::atomic<std::uint64_t> next_id{0};

 private:
  std::mutex mu_;
  std::unique_ptr<llvm::orc::LLJIT> fast_, opt_;
};

namespace {

// Code for one policy at one tier: its JITDylib, tracker and entry point.
struct LoadedCode {
  llvm::orc::LLJIT* jit = nullptr;
  llvm::orc::JITDylib* dylib = nullptr;
  llvm::orc::ResourceTrackerSP tracker;
  DiscoverFn fn = nullptr;

  void unload() {
    if (dylib == nullptr) return;
    // Errors here leave memory mapped but cannot be acted on; they are consumed, never thrown.
    llvm::consumeError(tracker->remove());
    llvm::consumeError(jit->getExecutionSession().removeJITDylib(*dylib));
    dylib = nullptr;
  }
};

llvm::Expected<LoadedCode> load(JitEngine& engine, const ir::Program& p, Tier tier) {
  auto jit = engine.jit(tier);
  if (!jit) return jit.takeError();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto module = build_module(p, *ctx);
  if (!module) return module.takeError();

  LoadedCode code;
  code.jit = *jit;
  const std::string name = "policy." + std::to_string(engine.next_id++);
  auto dylib = code.jit->getExecutionSession().createJITDylib(name);
  if (!dylib) return dylib.takeError();
  code.dylib = &*dylib;
  code.tracker = code.dylib->createResourceTracker();

  llvm::orc::SymbolMap helpers;
  auto add = [&](const char* sym, auto* fn) {
    helpers[code.jit->mangleAndIntern(sym)] = {llvm::orc::ExecutorAddr::fromPtr(fn),
                                               llvm::JITSymbolFlags::Exported};
  };
  add("amata_rt_window", &amata_rt_window);
  add("amata_rt_str_eq", &amata_rt_str_eq);
  add("amata_rt_match", &amata_rt_match);
  add("amata_rt_temporal", &amata_rt_temporal);
  add("amata_rt_check_time", &check_time);
  add("amata_rt_clear_after", &amata_rt_clear_after);
  if (auto err = code.dylib->define(llvm::orc::absoluteSymbols(std::move(helpers)), code.tracker)) {
    code.unload();
    return err;
  }
  if (auto err = code.jit->addIRModule(
          code.tracker, llvm::orc::ThreadSafeModule(std::move(*module), std::move(ctx)))) {
    code.unload();
    return err;
  }
  auto addr = code.jit->lookup(*code.dylib, kDiscoverName);
  if (!addr) {
    code.unload();
    return addr.takeError();
  }
  code.fn = addr->toPtr<DiscoverFn>();
  return code;
}

class JitPolicy final : public ir::CompiledPolicy {
 public:
  JitPolicy(std::shared_ptr<const ir::Program> program, std::vector<base::Regex> regexes,
            std::shared_ptr<JitEngine> engine, const LoadedCode& code)
      : CompiledPolicy(std::move(program), std::move(regexes)),
        engine_(std::move(engine)),
        fast_(code),
        fn_(code.fn) {
    ++engine_->live;
  }

  ~JitPolicy() override {
    if (optimiser_.joinable()) optimiser_.join();
    fast_.unload();
    optimised_.unload();
    --engine_->live;
  }

  void optimise_in_background() {
    optimiser_ = std::thread([this] {
      auto code = load(*engine_, program(), Tier::kOptimised);
      if (!code) {
        // The fast code keeps serving; the reason is kept for whoever asks.
        optimise_error_ = to_string(code.takeError());
        return;
      }
      optimised_ = *code;
      fn_.store(optimised_.fn, std::memory_order_release);
    });
  }

  bool optimised() const { return fn_.load(std::memory_order_acquire) != fast_.fn; }
  std::string_view backend_name() const override { return "jit"; }

 protected:
  void evaluate(double now, const ir::Samples& samples, ir::PolicyState& state,
                std::vector<ir::Edge>& edges) const override {
    ir::RuntimeFrame frame;
    frame.numbers = samples.numbers.data();
    frame.strings = samples.strings.data();
    frame.check_times = samples.check_times.empty() ? nullptr : samples.check_times.data();
    frame.history = &state.history;
    frame.literals = &program().strings;
    frame.regexes = &regexes();
    const ir::Program& p = program();
    // One byte per rule, padded to whole 64-byte blocks; the code writes every rule's byte,
    // the padding is zeroed here (the buffer may be left over from a larger policy). A block
    // of 64 rules is tested at once (vectorised), as edges are rare.
    constexpr std::size_t kBlock = 64;
    const std::size_t rules = p.rules.size();
    thread_local std::vector<std::uint8_t> changed;
    changed.resize((rules + kBlock - 1) / kBlock * kBlock);
    std::fill(changed.begin() + static_cast<std::ptrdiff_t>(rules), changed.end(), 0);
    fn_.load(std::memory_order_acquire)(&frame, frame.numbers, state.words.data(), changed.data(),
                                        now);
    for (std::size_t block = 0; block < changed.size(); block += kBlock) {
      std::uint64_t chunks[kBlock / 8];
      std::memcpy(chunks, changed.data() + block, kBlock);
      std::uint64_t any = 0;
      for (std::uint64_t chunk : chunks) any |= chunk;
      if (any == 0) continue;
      for (std::size_t c = 0; c < kBlock / 8; ++c) {
        for (std::uint64_t chunk = chunks[c]; chunk != 0;) {
          // Little endian: byte b of the chunk is rule block + 8c + b; clear the whole byte.
          const auto byte = static_cast<std::size_t>(__builtin_ctzll(chunk)) / 8;
          chunk &= ~(std::uint64_t{0xFF} << (8 * byte));
          const std::size_t rule = block + 8 * c + byte;
          double& flag = state.words[static_cast<std::size_t>(p.rules[rule].state_offset)];
          flag = flag != 0 ? 0.0 : 1.0;
          edges.push_back(ir::Edge{static_cast<int>(rule), flag != 0});
        }
      }
    }
  }

 private:
  std::shared_ptr<JitEngine> engine_;
  LoadedCode fast_, optimised_;
  std::atomic<DiscoverFn> fn_;
  std::thread optimiser_;
  std::string optimise_error_;
};

}  // namespace

Jit::Jit() : engine_(std::make_shared<JitEngine>()) {}
Jit::~Jit() = default;

Result<std::shared_ptr<Jit>> Jit::create() {
  init_llvm_once();
  auto jit = std::shared_ptr<Jit>(new Jit());
  auto fast = jit->engine_->jit(Tier::kFast);
  if (!fast) return Error{"cannot create the JIT: " + to_string(fast.takeError())};
  return jit;
}

int Jit::live_policies() const {
  return engine_->live.load();
}

Result<std::shared_ptr<const ir::CompiledPolicy>> Jit::compile(
    std::shared_ptr<const ir::Program> program, const JitOptions& options) {
  if (Status s = ir::validate(*program); !s.ok()) return s.error();
  auto regexes = ir::compile_regexes(*program);
  if (!regexes.ok()) return regexes.error();
  auto code = load(*engine_, *program, options.tier);
  if (!code) return Error{"JIT compilation failed: " + to_string(code.takeError())};
  auto policy =
      std::make_shared<JitPolicy>(std::move(program), std::move(regexes).value(), engine_, *code);
  if (options.tier == Tier::kFast && options.optimise_in_background) {
    policy->optimise_in_background();
  }
  return std::shared_ptr<const ir::CompiledPolicy>(std::move(policy));
}

Result<std::string> emit_llvm(const ir::Program& program) {
  if (Status s = ir::validate(program); !s.ok()) return s.error();
  llvm::LLVMContext ctx;
  auto module = build_module(program, ctx);
  if (!module) return Error{to_string(module.takeError())};
  std::string text;
  llvm::raw_string_ostream os(text);
  (*module)->print(os, nullptr);
  return os.str();
}

bool is_optimised(const ir::CompiledPolicy& policy) {
  const auto* jit = dynamic_cast<const JitPolicy*>(&policy);
  return jit != nullptr && jit->optimised();
}

}  // namespace amata::jit
