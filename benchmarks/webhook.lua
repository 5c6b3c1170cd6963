-- wrk script: Telegram updates of an onboarding mix (/start, the consent button, then profile answers) for
-- BENCH_CHATS chats; the k-th update of a chat is BENCH_CHATS requests after its (k-1)-th, so a chat's
-- updates never overlap. Each wrk thread takes every BENCH_THREADS-th number.
local answers = {"Keripik Bu Sari", "Sari Wulandari", "perorangan", "1234567890123", "10794",
                 "01.312.166.0-091.000", "bukan pkp", "mikro", "lampung utara", "Jl. Merdeka No. 5, Kotabumi",
                 "0812 3456 7890", "lewati"}
local counter = 0
local next_thread = 0

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  nchats = tonumber(os.getenv("BENCH_CHATS"))
  base = tonumber(os.getenv("BENCH_BASE"))
  headers = {["Content-Type"] = "application/json",
             ["X-Telegram-Bot-Api-Secret-Token"] = os.getenv("BENCH_SECRET")}
end

local function person(chat)
  return string.format('{"id":%d,"is_bot":false,"first_name":"Sari","language_code":"id"}', chat)
end

local function message(chat, n, text, entities)
  return string.format(
    '{"message_id":%d,"from":%s,"chat":{"id":%d,"first_name":"Sari","type":"private"},"date":1795409046,'
    .. '"text":"%s"%s}', n, person(chat), chat, text, entities)
end

function request()
  local n = counter * nthreads + tid
  counter = counter + 1
  local chat = base + (n % nchats)
  local step = math.floor(n / nchats)
  local update_id = base + n
  local body
  if step == 0 then
    body = string.format('{"update_id":%d,"message":%s}', update_id,
      message(chat, n, "/start", ',"entities":[{"offset":0,"length":6,"type":"bot_command"}]'))
  elseif step == 1 then
    body = string.format('{"update_id":%d,"callback_query":{"id":"q%d","from":%s,"message":%s,'
      .. '"chat_instance":"1","data":"consent:yes"}}', update_id, n, person(chat),
      message(chat, n, "Apakah Bapak/Ibu setuju?", ""))
  else
    local answer = answers[((step - 2) % #answers) + 1]
    body = string.format('{"update_id":%d,"message":%s}', update_id, message(chat, n, answer, ""))
  end
  return wrk.format("POST", "/telegram/webhook", headers, body)
end
