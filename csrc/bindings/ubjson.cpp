// XGBoost's binary model (Booster.save_raw("ubj")) read straight into Python objects: the compiled
// twin of python/assay/trees/_ubjson.py, which stays the reference. Same grammar, same objects
// (dicts in document order, int/float/str/bool/None, lists, native-endian NumPy arrays for typed
// numeric containers), same accepted inputs: tests/test_ubjson_native.py compares the two on real
// models, hand-made documents and thousands of mutations. The bytes are a user's file, so every
// count is checked against the bytes left before anything is allocated; malformed input raises
// ValueError naming the byte offset.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace {

constexpr int kMaxDepth = 64;  // _ubjson._MAX_DEPTH

// A big-endian T at p (UBJSON's byte order), as raw bits: float NaN payloads survive, as they do in
// NumPy's byte-swapping cast that the reference uses.
template <class T>
T load_be(const uint8_t* p) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8, "a UBJSON number");
  uint64_t u = 0;
  for (size_t i = 0; i < sizeof(T); ++i) u = (u << 8) | p[i];
  T v;
  if constexpr (sizeof(T) == 1) {
    const auto b = static_cast<uint8_t>(u);
    std::memcpy(&v, &b, 1);
  } else if constexpr (sizeof(T) == 2) {
    const auto b = static_cast<uint16_t>(u);
    std::memcpy(&v, &b, 2);
  } else if constexpr (sizeof(T) == 4) {
    const auto b = static_cast<uint32_t>(u);
    std::memcpy(&v, &b, 4);
  } else {
    std::memcpy(&v, &u, 8);
  }
  return v;
}

// Bytes per value of a numeric marker (i U I l L d D), 0 for any other byte.
size_t number_size(uint8_t m) {
  switch (m) {
    case 'i':
    case 'U': return 1;
    case 'I': return 2;
    case 'l':
    case 'd': return 4;
    case 'L':
    case 'D': return 8;
    default: return 0;
  }
}

bool is_integer_marker(uint8_t m) { return m == 'i' || m == 'U' || m == 'I' || m == 'l' || m == 'L'; }

py::object steal(PyObject* p) {
  if (p == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(p);
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : buf_(data), size_(size) {}

  py::object document() { return value(marker(), 0); }  // trailing bytes are ignored, as in the reference

 private:
  const uint8_t* buf_;
  size_t size_;
  size_t pos_ = 0;  // the next unread byte

  [[noreturn]] static void fail(const std::string& what) { throw std::invalid_argument("UBJSON: " + what); }
  static std::string at(size_t offset) { return " at byte " + std::to_string(offset); }

  static std::string show(uint8_t m) {  // 'q', or 0xff for a byte that does not print
    if (m >= 0x20 && m < 0x7f) return std::string("'") + static_cast<char>(m) + "'";
    const char* hex = "0123456789abcdef";
    return std::string("0x") + hex[m >> 4] + hex[m & 15];
  }

  size_t left() const { return size_ - pos_; }

  void need(uint64_t n) const {
    if (n > left())
      fail("truncated" + at(pos_) + " (need " + std::to_string(n) + " more bytes, " + std::to_string(left()) +
           " left)");
  }

  // The next marker, skipping no-op bytes ('N').
  uint8_t marker() {
    while (pos_ < size_ && buf_[pos_] == 'N') ++pos_;
    if (pos_ >= size_) fail("truncated" + at(pos_) + ": expected a marker");
    return buf_[pos_++];
  }

  py::object number(uint8_t m) {  // m is one of i U I l L d D
    const size_t size = number_size(m);
    need(size);
    const uint8_t* p = buf_ + pos_;
    pos_ += size;
    switch (m) {
      case 'i': return steal(PyLong_FromLong(load_be<int8_t>(p)));
      case 'U': return steal(PyLong_FromLong(load_be<uint8_t>(p)));
      case 'I': return steal(PyLong_FromLong(load_be<int16_t>(p)));
      case 'l': return steal(PyLong_FromLong(load_be<int32_t>(p)));
      case 'L': return steal(PyLong_FromLongLong(load_be<int64_t>(p)));
      case 'd': return steal(PyFloat_FromDouble(static_cast<double>(load_be<float>(p))));
      default: return steal(PyFloat_FromDouble(load_be<double>(p)));  // 'D'
    }
  }

  // A length: an integer of any width, never negative.
  uint64_t length() {
    const uint8_t m = marker();
    if (!is_integer_marker(m)) fail("expected an integer length" + at(pos_ - 1));
    const size_t size = number_size(m);
    need(size);
    const uint8_t* p = buf_ + pos_;
    int64_t n;
    switch (m) {
      case 'i': n = load_be<int8_t>(p); break;
      case 'U': n = load_be<uint8_t>(p); break;
      case 'I': n = load_be<int16_t>(p); break;
      case 'l': n = load_be<int32_t>(p); break;
      default: n = load_be<int64_t>(p); break;  // 'L'
    }
    pos_ += size;
    if (n < 0) fail("negative length " + std::to_string(n) + at(pos_ - size));
    return static_cast<uint64_t>(n);
  }

  // Python's own decoder: strict UTF-8 exactly as bytes.decode("utf-8") in the reference.
  py::object string() {
    const uint64_t n = length();
    need(n);
    const size_t start = pos_;
    PyObject* s =
        PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(buf_ + start), static_cast<Py_ssize_t>(n), "strict");
    if (s == nullptr) malformed("a string that is not UTF-8", start);
    pos_ += n;
    return steal(s);
  }

  // A Python ValueError from a decoder (bad UTF-8, a high-precision number float() rejects)
  // becomes ours with the offset; anything else (MemoryError) passes through.
  [[noreturn]] static void malformed(const char* what, size_t offset) {
    if (!PyErr_ExceptionMatches(PyExc_ValueError)) throw py::error_already_set();
    PyErr_Clear();
    fail(std::string("malformed input (") + what + at(offset) + ")");
  }

  py::object value(uint8_t m, int depth) {
    if (number_size(m) != 0) return number(m);
    switch (m) {
      case 'S': return string();
      case '[': return array(depth);
      case '{': return object(depth);
      case 'H': {  // high-precision number, as a string: float() of it, as the reference
        const size_t start = pos_;
        py::object s = string();
        PyObject* f = PyFloat_FromString(s.ptr());
        if (f == nullptr) malformed("a high-precision number that is not a float", start);
        return steal(f);
      }
      case 'C': need(1); return steal(PyUnicode_FromOrdinal(buf_[pos_++]));
      case 'T': return py::reinterpret_borrow<py::object>(Py_True);
      case 'F': return py::reinterpret_borrow<py::object>(Py_False);
      case 'Z': return py::none();
      default: fail("unknown marker " + show(m) + at(pos_ - 1));
    }
  }

  struct Header {
    int kind = -1;        // the element type marker of a typed container, -1 if untyped
    int64_t count = -1;   // the element count, -1 if not given (ends at ']' or '}')
  };

  // What follows '[' or '{': "$<type>#<count>", "#<count>", or nothing.
  Header header(int depth) {
    if (depth > kMaxDepth)
      fail("nesting too deep" + at(pos_) + " (more than " + std::to_string(kMaxDepth) + " levels)");
    Header h;
    const uint8_t m = marker();
    uint64_t count = 0;
    if (m == '$') {
      need(1);
      h.kind = buf_[pos_++];
      if (marker() != '#') fail("a typed container needs a count" + at(pos_ - 1));
      count = length();
    } else if (m == '#') {
      count = length();
    } else {
      --pos_;  // no header: an element (or the end marker) starts here
      return h;
    }
    // No count exceeds the bytes left (a numeric array's bytes are checked by the caller), not
    // even one of T, F or Z, which UBJSON lets carry no bytes: 14 bytes cannot ask for a list of
    // 2**62 elements. The reference checks the same.
    if (count > left()) fail("container count " + std::to_string(count) + " exceeds the data" + at(pos_));
    h.count = static_cast<int64_t>(count);
    return h;
  }

  template <class T>
  py::object numeric_array(size_t count) {
    const uint8_t* p = buf_ + pos_;
    py::array_t<T> out(static_cast<py::ssize_t>(count));
    T* o = out.mutable_data();
    for (size_t i = 0; i < count; ++i) o[i] = load_be<T>(p + i * sizeof(T));
    pos_ += count * sizeof(T);
    return std::move(out);
  }

  py::object array(int depth) {
    const Header h = header(depth + 1);
    if (h.kind >= 0 && number_size(static_cast<uint8_t>(h.kind)) != 0) {
      const auto count = static_cast<uint64_t>(h.count);
      const size_t size = number_size(static_cast<uint8_t>(h.kind));
      if (count > left() / size)
        fail("truncated" + at(pos_) + " (" + std::to_string(count) + " values of " + std::to_string(size) + " bytes, " +
             std::to_string(left()) + " bytes left)");
      switch (h.kind) {
        case 'i': return numeric_array<int8_t>(count);
        case 'U': return numeric_array<uint8_t>(count);
        case 'I': return numeric_array<int16_t>(count);
        case 'l': return numeric_array<int32_t>(count);
        case 'L': return numeric_array<int64_t>(count);
        case 'd': return numeric_array<float>(count);
        default: return numeric_array<double>(count);  // 'D'
      }
    }
    // Grown element by element, never sized from the count: a list of pointers costs eight times
    // the bytes it was read from, and a count that turns out false fails at its first bad element.
    py::object out = steal(PyList_New(0));
    auto append = [&](const py::object& v) {
      if (PyList_Append(out.ptr(), v.ptr()) != 0) throw py::error_already_set();
    };
    if (h.count >= 0) {
      for (int64_t i = 0; i < h.count; ++i)
        append(value(h.kind >= 0 ? static_cast<uint8_t>(h.kind) : marker(), depth + 1));
      return out;
    }
    while (true) {
      const uint8_t m = marker();
      if (m == ']') return out;
      append(value(m, depth + 1));
    }
  }

  py::object object(int depth) {
    const Header h = header(depth + 1);
    py::object out = steal(PyDict_New());
    auto set = [&](const py::object& key, const py::object& v) {
      if (PyDict_SetItem(out.ptr(), key.ptr(), v.ptr()) != 0) throw py::error_already_set();
    };
    if (h.count >= 0) {
      for (int64_t i = 0; i < h.count; ++i) {
        py::object key = string();
        set(key, value(h.kind >= 0 ? static_cast<uint8_t>(h.kind) : marker(), depth + 1));
      }
      return out;
    }
    while (true) {
      if (marker() == '}') return out;
      --pos_;
      py::object key = string();
      set(key, value(marker(), depth + 1));
    }
  }
};

// Holds a buffer export for as long as the reader runs (a bytearray cannot be resized under it).
class BufferView {
 public:
  explicit BufferView(const py::object& obj) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  }
  ~BufferView() { PyBuffer_Release(&view_); }
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(view_.buf); }
  size_t size() const { return static_cast<size_t>(view_.len); }

 private:
  Py_buffer view_{};
};

}  // namespace

void bind_ubjson(py::module_& m) {
  m.def(
      "ubjson_loads",
      [](const py::buffer& data) {
        const BufferView view(data);
        return Reader(view.data(), view.size()).document();
      },
      py::arg("data"),
      "One UBJSON value from bytes (XGBoost's save_raw('ubj')): the objects _ubjson.loads makes, typed "
      "numeric containers as NumPy arrays. Malformed input raises ValueError naming the byte offset.");
}
