/**
 * Python run once in each child after Pyodide loads, before any user code: the network stubs,
 * the `requests` module, the import block on Pyodide's bridges to JavaScript, and the two entry
 * points the child calls (_lrs_run, _lrs_describe). Values cross as JSON strings only, so Python
 * never needs a JavaScript object.
 */
export const PYTHON_PRELUDE = String.raw`
import sys, os, json, builtins, traceback, inspect, ast, types, io

_LRS_NETWORK_ENABLED = __LRS_NETWORK_ENABLED__
if _LRS_NETWORK_ENABLED:
    _LRS_NET_MESSAGE = "raw sockets are not available to tools (TOOL_NETWORK=true allows HTTP through requests and urllib.request.urlopen only)"
else:
    _LRS_NET_MESSAGE = "network access for tools is off on this server (TOOL_NETWORK=false)"

class NetworkDisabledError(ConnectionError):
    pass

def _lrs_no_network(*args, **kwargs):
    raise NetworkDisabledError(_LRS_NET_MESSAGE)

# --- sockets, urllib, http.client: refused with a clear message, not Emscripten's socket emulation
import socket as _lrs_socket
class _LrsSocket(_lrs_socket.socket):
    def __init__(self, *args, **kwargs):
        raise NetworkDisabledError(_LRS_NET_MESSAGE)
_lrs_socket.socket = _LrsSocket
_lrs_socket.SocketType = _LrsSocket
for _name in ("create_connection", "create_server", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
              "gethostbyaddr", "socketpair", "fromfd", "getfqdn"):
    setattr(_lrs_socket, _name, _lrs_no_network)
import http.client as _lrs_http_client
_lrs_http_client.HTTPConnection.connect = _lrs_no_network
import urllib.request as _lrs_urllib_request
_lrs_urllib_request.OpenerDirector.open = _lrs_no_network

class _LrsUrlResponse(io.BytesIO):
    def __init__(self, reply, url):
        super().__init__(_lrs_base64.b64decode(reply.get("bodyBase64") or ""))
        self.status = reply["status"]
        self.reason = reply.get("reason", "")
        self.url = reply.get("url", url)
        import email.message
        self.headers = email.message.Message()
        for key, value in reply["headers"].items():
            self.headers[key] = value
    def getcode(self):
        return self.status
    def geturl(self):
        return self.url
    def info(self):
        return self.headers
    def getheader(self, name, default=None):
        return self.headers.get(name, default)

def _lrs_urlopen(url, data=None, timeout=None, **ignored):
    if isinstance(url, _lrs_urllib_request.Request):
        target, method, headers = url.full_url, url.get_method(), dict(url.header_items())
        data = url.data if data is None else data
    else:
        target, method, headers = url, "POST" if data is not None else "GET", {}
    try:
        reply = _lrs_http(method, target, headers, data, timeout)
    except ConnectionError as exc:
        if _lrs_http_call is None:
            raise
        raise _lrs_urllib_error.URLError(str(exc))
    response = _LrsUrlResponse(reply, target)
    if response.status >= 400:
        raise _lrs_urllib_error.HTTPError(target, response.status, response.reason, response.headers, response)
    return response
_lrs_urllib_request.urlopen = _lrs_urlopen

# --- a small requests: real tools import it at module level, so the import works and calls fail
_lrs_requests = types.ModuleType("requests")
_lrs_requests_exceptions = types.ModuleType("requests.exceptions")
class RequestException(IOError):
    pass
class _RequestsConnectionError(RequestException):
    pass
class Timeout(RequestException):
    pass
class HTTPError(RequestException):
    def __init__(self, *args, response=None, **kwargs):
        super().__init__(*args)
        self.response = response
_RequestsConnectionError.__name__ = "ConnectionError"
_RequestsConnectionError.__qualname__ = "ConnectionError"
class _RequestsNetworkDisabled(NetworkDisabledError, _RequestsConnectionError):
    pass
_RequestsNetworkDisabled.__name__ = "NetworkDisabledError"
for _mod in (_lrs_requests, _lrs_requests_exceptions):
    _mod.RequestException = RequestException
    _mod.ConnectionError = _RequestsConnectionError
    _mod.Timeout = Timeout
    _mod.HTTPError = HTTPError
    _mod.NetworkDisabledError = _RequestsNetworkDisabled
_lrs_http_call = None
def _lrs_install_http(fn):
    global _lrs_http_call
    _lrs_http_call = fn

import base64 as _lrs_base64, urllib.parse as _lrs_parse, urllib.error as _lrs_urllib_error

def _lrs_http(method, url, headers, body, timeout, follow=True):
    # One request through the child's worker thread; the answer's body comes back as base64.
    if _lrs_http_call is None:
        raise _RequestsNetworkDisabled("network access for tools is off on this server (TOOL_NETWORK=false)")
    request = {"method": method.upper(), "url": url, "headers": {str(k): str(v) for k, v in (headers or {}).items()},
               "bodyBase64": _lrs_base64.b64encode(body).decode("ascii") if body is not None else None,
               "timeoutMs": int((timeout if timeout else 30) * 1000), "followRedirects": follow}
    reply = json.loads(_lrs_http_call(json.dumps(request)))
    if "error" in reply:
        raise _RequestsConnectionErrorNet(reply["error"])
    return reply

class _RequestsConnectionErrorNet(_RequestsConnectionError, ConnectionError):
    pass
_RequestsConnectionErrorNet.__name__ = "ConnectionError"

class Response:
    def __init__(self, reply, request_url):
        self.status_code = reply["status"]
        self.reason = reply.get("reason", "")
        self.headers = _LrsHeaders(reply["headers"])
        self.url = reply.get("url", request_url)
        self.content = _lrs_base64.b64decode(reply.get("bodyBase64") or "")
        self.ok = 200 <= self.status_code < 400
    @property
    def encoding(self):
        ctype = self.headers.get("content-type", "")
        for part in ctype.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset":
                return value.strip('"')
        return "utf-8"
    @property
    def text(self):
        return self.content.decode(self.encoding, errors="replace")
    def json(self, **kwargs):
        return json.loads(self.text, **kwargs)
    def raise_for_status(self):
        if self.status_code >= 400:
            raise HTTPError("%d %s for url: %s" % (self.status_code, "Client Error" if self.status_code < 500 else "Server Error", self.url), response=self)
    def __repr__(self):
        return "<Response [%d]>" % self.status_code

class _LrsHeaders(dict):
    def __init__(self, items):
        super().__init__((k.lower(), v) for k, v in items.items())
    def __getitem__(self, key):
        return super().__getitem__(key.lower())
    def get(self, key, default=None):
        return super().get(key.lower(), default)
    def __contains__(self, key):
        return super().__contains__(key.lower())

def _lrs_request(method, url, params=None, data=None, headers=None, json=None, timeout=None, allow_redirects=True, **ignored):
    headers = dict(headers or {})
    if params:
        url = url + ("&" if "?" in url else "?") + _lrs_parse.urlencode(params, doseq=True)
    body = None
    if json is not None:
        body = globals()["json"].dumps(json).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(data, dict):
        body = _lrs_parse.urlencode(data, doseq=True).encode("utf-8")
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif isinstance(data, str):
        body = data.encode("utf-8")
    elif data is not None:
        body = bytes(data)
    if isinstance(timeout, tuple):
        timeout = sum(t for t in timeout if t)
    return Response(_lrs_http(method, url, headers, body, timeout, allow_redirects), url)
_lrs_requests.request = _lrs_request
_lrs_requests.Response = Response
_lrs_requests_exceptions.HTTPError = HTTPError
for _method in ("get", "post", "put", "patch", "delete", "head", "options"):
    _lrs_requests.__dict__[_method] = (lambda m: (lambda url, **kwargs: _lrs_request(m.upper(), url, **kwargs)))(_method)
class _LrsSession:
    def __init__(self):
        self.headers = {}
    def request(self, method, url, **kwargs):
        return _lrs_request(method, url, **kwargs)
    def get(self, url, **kwargs): return _lrs_request("GET", url, **kwargs)
    def post(self, url, **kwargs): return _lrs_request("POST", url, **kwargs)
    def __enter__(self): return self
    def __exit__(self, *exc): return False
_lrs_requests.Session = _LrsSession
_lrs_requests.exceptions = _lrs_requests_exceptions
sys.modules["requests"] = _lrs_requests
sys.modules["requests.exceptions"] = _lrs_requests_exceptions

# --- Letta's injected client: present, and every use says why it does not work here
class _LrsNoClient:
    def __getattr__(self, name):
        raise RuntimeError("the Letta client is not available inside tools on this server (tools get agent_state for memory; call the REST API from outside)")
    def __call__(self, *args, **kwargs):
        self.__getattr__("__call__")

# Tools written against Letta's server import its SDK to call the API as their agent: the module
# exists, and making a client says why it does not work here (instead of "No module named").
_lrs_letta_client = types.ModuleType("letta_client")
def _lrs_no_letta_client(*args, **kwargs):
    _LrsNoClient().__getattr__("Letta")
_lrs_letta_client.Letta = _lrs_no_letta_client
_lrs_letta_client.AsyncLetta = _lrs_no_letta_client
_lrs_letta_client.__getattr__ = lambda name: _lrs_no_letta_client
sys.modules["letta_client"] = _lrs_letta_client

# --- agent_state
class _LrsBlock:
    def __init__(self, data):
        self.label = data["label"]
        self.value = data["value"]
        self.limit = data["limit"]
        self.read_only = data["readOnly"]
        self.description = data.get("description")
    def __repr__(self):
        return "Block(label=%r, value=%r, limit=%r)" % (self.label, self.value, self.limit)

class _LrsMemory:
    def __init__(self, blocks, updates):
        self._blocks = [_LrsBlock(b) for b in blocks]
        self._updates = updates
    @property
    def blocks(self):
        return list(self._blocks)
    def get_block(self, label):
        for block in self._blocks:
            if block.label == label:
                return block
        raise KeyError("Block field %s does not exist (available sections = %s)" % (label, ", ".join(b.label for b in self._blocks)))
    def list_block_labels(self):
        return [block.label for block in self._blocks]
    def update_block_value(self, label, value):
        if not isinstance(value, str):
            raise ValueError("Provided value must be a string")
        block = None
        for candidate in self._blocks:
            if candidate.label == label:
                block = candidate
        if block is None:
            raise ValueError("Block with label %s does not exist" % label)
        if block.read_only:
            raise ValueError("This block is read-only and cannot be edited (block %s)" % label)
        if len(value) > block.limit:
            raise ValueError("Edit failed: Exceeds %d character limit (requested %d)" % (block.limit, len(value)))
        block.value = value
        self._updates.append({"label": label, "value": value})
    def compile(self):
        return "\n".join("<%s>\n%s\n</%s>" % (b.label, b.value, b.label) for b in self._blocks)

class _LrsAgentState:
    def __init__(self, agent, updates):
        self.id = agent["id"]
        self.name = agent["name"]
        self.memory = _LrsMemory(agent["blocks"], updates)

def _lrs_text(value):
    if isinstance(value, str):
        return value
    if value is None:
        return "None"
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, ensure_ascii=False)
        except Exception:
            return str(value)
    return str(value)

def _lrs_drive(result):
    # An async tool that awaits nothing asynchronous finishes on the first send.
    if inspect.iscoroutine(result):
        try:
            result.send(None)
        except StopIteration as done:
            return done.value
        result.close()
        raise RuntimeError("async tools that wait on I/O are not supported in this sandbox")
    return result

def _lrs_finish(status, value, error_type, tb, updates, limit):
    text = value
    if len(text) > limit:
        full = len(text)
        text = text[:limit] + "... [NOTE: function output was truncated since it exceeded the character limit (%d > %d)]" % (full, limit)
    return json.dumps({"status": status, "value": text, "errorType": error_type, "traceback": tb, "memoryUpdates": updates})

def _lrs_error(exc, updates, limit):
    message = str(exc)
    text = "%s: %s" % (type(exc).__name__, message) if message else type(exc).__name__
    return _lrs_finish("error", text, type(exc).__name__, traceback.format_exc(), updates, limit)

def _lrs_prepare(payload):
    os.environ.clear()
    os.environ.update(payload["env"])
    agent = payload.get("agent")
    if agent:
        os.environ["LETTA_AGENT_ID"] = agent["id"]
    namespace = {"__name__": "__main__", "__builtins__": builtins, "client": _LrsNoClient()}
    # What Letta's generated sandbox script has in scope before a tool's source: the typing names
    # and a few modules. Real tools rely on it (List, Optional, os without importing them).
    exec("from typing import *\nimport os, sys, json, base64, pickle, struct, hashlib", namespace)
    return namespace

def _lrs_run(payload_json):
    payload = json.loads(payload_json)
    updates = []
    limit = payload["returnCharLimit"]
    try:
        namespace = _lrs_prepare(payload)
        exec(compile(payload["sourceCode"], "<tool>", "exec"), namespace)
        fn = namespace.get(payload["functionName"])
        if not callable(fn):
            raise NameError("function %s is not defined in the tool's source code" % payload["functionName"])
        kwargs = dict(payload["args"])
        try:
            wants_state = "agent_state" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            wants_state = False
        if wants_state:
            agent = payload.get("agent")
            kwargs["agent_state"] = _LrsAgentState(agent, updates) if agent else None
        result = _lrs_drive(fn(**kwargs))
        return _lrs_finish("success", _lrs_text(result), None, None, updates, limit)
    except BaseException as exc:
        return _lrs_error(exc, updates, limit)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass

def _lrs_run_code(payload_json):
    # run_code: the snippet's output, and the value of its last expression when it ends with one.
    payload = json.loads(payload_json)
    limit = payload["returnCharLimit"]
    try:
        namespace = _lrs_prepare(payload)
        tree = ast.parse(payload["sourceCode"], "<code>", "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<code>", "exec"), namespace)
        value = eval(compile(last, "<code>", "eval"), namespace) if last is not None else None
        return _lrs_finish("success", "" if value is None else _lrs_text(value), None, None, [], limit)
    except BaseException as exc:
        return _lrs_error(exc, [], limit)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass

def _lrs_annotation(node):
    if node is None:
        return None
    if isinstance(node, ast.Name):
        return {"k": "name", "id": node.id}
    if isinstance(node, ast.Attribute):
        return {"k": "attr", "value": _lrs_annotation(node.value), "attr": node.attr}
    if isinstance(node, ast.Subscript):
        sl = node.slice
        args = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        return {"k": "sub", "value": _lrs_annotation(node.value), "args": [_lrs_annotation(a) for a in args]}
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            try:
                return _lrs_annotation(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return {"k": "other", "text": node.value}
        if node.value is Ellipsis:
            return {"k": "other", "text": "..."}
        if node.value is None or isinstance(node.value, (bool, int, float)):
            return {"k": "const", "value": node.value}
        return {"k": "other", "text": ast.unparse(node)}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        members = []
        for side in (node.left, node.right):
            converted = _lrs_annotation(side)
            members.extend(converted["args"] if converted["k"] == "union" else [converted])
        return {"k": "union", "args": members}
    return {"k": "other", "text": ast.unparse(node)}

def _lrs_describe(source):
    try:
        tree = ast.parse(source, "<tool>", "exec")
    except SyntaxError as exc:
        return json.dumps({"ok": False, "problem": "Syntax error in the source code at line %s: %s" % (exc.lineno, exc.msg)})
    functions = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            params = []
            positional = a.posonlyargs + a.args
            first_default = len(positional) - len(a.defaults)
            for i, arg in enumerate(positional):
                params.append({"name": arg.arg, "annotation": _lrs_annotation(arg.annotation), "hasDefault": i >= first_default, "kind": "positional"})
            if a.vararg:
                params.append({"name": a.vararg.arg, "annotation": _lrs_annotation(a.vararg.annotation), "hasDefault": True, "kind": "varargs"})
            for arg, default in zip(a.kwonlyargs, a.kw_defaults):
                params.append({"name": arg.arg, "annotation": _lrs_annotation(arg.annotation), "hasDefault": default is not None, "kind": "keyword"})
            if a.kwarg:
                params.append({"name": a.kwarg.arg, "annotation": _lrs_annotation(a.kwarg.annotation), "hasDefault": True, "kind": "varkw"})
            functions.append({"name": node.name, "docstring": ast.get_docstring(node, clean=False), "params": params})
    return json.dumps({"ok": True, "functions": functions})

# --- Pyodide's bridges to JavaScript: unreachable by import from tool code
_LRS_BLOCKED = {"js", "pyodide_js", "pyodide", "_pyodide", "_pyodide_core", "micropip", "pyodide_http", "_socket", "ctypes", "_ctypes"}
class _LrsImportBlock:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _LRS_BLOCKED:
            raise ModuleNotFoundError("No module named '%s' (not available inside tools)" % name, name=name)
        return None
    def find_module(self, name, path=None):
        return self.find_spec(name, path)
sys.meta_path[:] = [_LrsImportBlock()] + [f for f in sys.meta_path if "JsFinder" not in type(f).__name__ and "jsfinder" not in repr(f).lower()]
for _name in list(sys.modules):
    if _name.split(".")[0] in _LRS_BLOCKED:
        del sys.modules[_name]
del _name
# The finder's table still holds the js and pyodide_js objects, reachable through gc: empty it.
import gc as _lrs_gc
for _finder in _lrs_gc.get_objects():
    if type(_finder).__name__ == "JsFinder" and isinstance(getattr(_finder, "jsproxies", None), dict):
        _finder.jsproxies.clear()
del _lrs_gc
`;
