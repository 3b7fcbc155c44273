-- wrk script of the cold-path bench (`cold_path.rs`): `/api/me` with a new token per request.
--
-- Arguments (after `--`): the token file (one token a line) and the number of wrk threads. Each
-- thread sends its own share of the file (line i goes to thread i mod threads), each token once;
-- when a share runs out the thread starts it again and counts a wrap, which `done` reports so
-- that the bench can refuse the run (a repeated token is not cold).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  thread:set("wraps", 0)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(args[2])
  tokens = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % count == id then
      tokens[#tokens + 1] = "Bearer " .. line
    end
    i = i + 1
  end
  pos = 0
end

function request()
  pos = pos + 1
  if pos > #tokens then
    pos = 1
    wraps = wraps + 1
  end
  return wrk.format(nil, nil, { Authorization = tokens[pos] })
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wraps")
  end
  io.write(string.format("cold-path-wraps: %d\n", wraps))
end
