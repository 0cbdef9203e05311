// One evaluation's state (Frame): its inputs, facts read once, definitions
// evaluated once; and the thread's frames kept for reuse.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "engine/cel/runtime/internal/fields.h"
#include "engine/cel/runtime/internal/nodes.h"

namespace reconnect::cel::runtime_internal {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

Frame::Frame(const ExpressionSet& s)
    : set(s),
      set_id(s.id_),
      inputs(s.inputs_, nullptr),
      own_class(s.inputs_, 0),
      variables(s.variables_),
      facts(s.facts_.size()),
      fact_loaded(s.facts_.size(), 0),
      defs(s.def_roots_.size()),
      def_state(s.def_roots_.size(), 0),
      locals(s.locals_),
      max_cost(s.limits_.max_cost) {}

void Frame::Clear() {
  std::fill(inputs.begin(), inputs.end(), nullptr);
  std::fill(own_class.begin(), own_class.end(), 0);
  std::fill(variables.begin(), variables.end(), Value());
  std::fill(facts.begin(), facts.end(), Value());
  std::fill(fact_loaded.begin(), fact_loaded.end(), 0);
  std::fill(defs.begin(), defs.end(), Value());
  std::fill(def_state.begin(), def_state.end(), 0);
  std::fill(locals.begin(), locals.end(), Value());
  iterations = 0;
  cost = 0;
  partial = false;
}

const Value& Frame::Fact(int slot) {
  if (!fact_loaded[slot]) {
    const FactPath& path = set.facts_[slot];
    const Message* input = inputs[path.input];
    if (input == nullptr) {
      facts[slot] = Value::Error("input is not bound");
    } else {
      // The planned reflections, when the input is of its type's
      // generated class; else each message's own.
      const bool planned = own_class[path.input];
      const Message* m = input;
      const size_t n = path.fields.size();
      for (size_t i = 0; i + 1 < n; ++i) {
        const auto* r = planned ? path.reflections[i] : m->GetReflection();
        m = &r->GetMessage(*m, path.fields[i]);
      }
      const auto* r = planned ? path.reflections[n - 1] : m->GetReflection();
      const FieldDescriptor* last = path.fields.back();
      if (ABSL_PREDICT_FALSE(partial) && FieldAbsent(*m, last)) {
        facts[slot] = Value::Unknown(path.attribute);
      } else {
        facts[slot] = path.presence ? Value::Bool(HasField(*r, *m, last))
                                    : ReadField(*r, *m, last, nullptr,
                                                set.strong_enums());
      }
    }
    fact_loaded[slot] = 1;
  }
  return facts[slot];
}

const Message& FactHolder(const Message& input, const FactPath& path) {
  const Message* m = &input;
  for (size_t i = 0; i + 1 < path.fields.size(); ++i) {
    m = &m->GetReflection()->GetMessage(*m, path.fields[i]);
  }
  return *m;
}

bool FieldAbsent(const Message& holder, const FieldDescriptor* f) {
  if (f->is_repeated() || f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return false;
  }
  if (f->has_presence()) return !holder.GetReflection()->HasField(holder, f);
  return f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
         holder.GetReflection()->GetEnumValue(holder, f) == 0;
}

Value Frame::Def(int index) {
  if (!def_state[index]) {
    defs[index] = set.roots_[set.def_roots_[index]]->Eval(*this);
    def_state[index] = 1;
  }
  return defs[index];
}

namespace {

// The frames of the evaluations that ended on this thread, newest last, to
// be reused by the next evaluations of the same sets. A frame's vectors are
// as long as its set's facts, definitions and locals; allocating them anew
// for every evaluation costs more than the evaluation of a small condition
// (and, over a kilobyte, makes glibc's malloc consolidate its free lists
// each time). A few are kept: an evaluation may run beside another of the
// same set (the missing-data analysis beside the plan's), and several sets
// may be in use (rule-set versions).
constexpr size_t kPooledFrames = 4;

std::vector<std::unique_ptr<Frame>>& PooledFrames() {
  thread_local std::vector<std::unique_ptr<Frame>> frames;
  return frames;
}

}  // namespace

std::unique_ptr<Frame> Frame::Take(const ExpressionSet& set) {
  auto& frames = PooledFrames();
  for (size_t i = frames.size(); i-- > 0;) {
    // Ids are never reused, so a frame of this id is of this very set,
    // alive (a frame of a set since destroyed is never matched again).
    if (frames[i]->set_id == set.id_) {
      std::unique_ptr<Frame> frame = std::move(frames[i]);
      frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(i));
      return frame;
    }
  }
  return std::make_unique<Frame>(set);
}

void Frame::GiveBack(std::unique_ptr<Frame> frame) {
  frame->Clear();
  auto& frames = PooledFrames();
  if (frames.size() == kPooledFrames) frames.erase(frames.begin());
  frames.push_back(std::move(frame));
}

}  // namespace reconnect::cel::runtime_internal
